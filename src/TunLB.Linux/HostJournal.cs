using System.Text.Json;

namespace TunLB.Linux;

/// <summary>
/// A file holding a <see cref="HostNetwork"/>'s pending undo steps as commands, rewritten at every change and deleted on a
/// clean exit, so that the next start after a crash (kill -9, OOM kill, power loss of the process) can remove what the
/// dead process left: routes, rules, proxy neighbours, addresses, sysctls. One file per daemon and network namespace.
/// </summary>
public sealed class HostJournal
{
    /// <summary>Where journals live: $TUNLB_RUN_DIR, else /run/tunlb (systemd's RuntimeDirectory=tunlb).</summary>
    public static string Directory => Environment.GetEnvironmentVariable("TUNLB_RUN_DIR") is { Length: > 0 } d ? d : "/run/tunlb";

    /// <param name="path">The file.</param>
    /// <param name="netnsInode">The writer's network namespace, recorded for <see cref="SweepOrphans"/>; default: the calling thread's.</param>
    public HostJournal(string path, ulong? netnsInode = null)
    {
        Path = path;
        _netnsInode = netnsInode ?? CurrentNetnsInode();
    }

    private readonly ulong _netnsInode;

    public string Path { get; }

    /// <summary>The journal of daemon <paramref name="name"/> (e.g. "director-tunlb0") in this process's network namespace.</summary>
    public static HostJournal For(string name) => new(System.IO.Path.Combine(Directory, $"{name}-{NamespaceId()}.json"));

    /// <summary>One undo step: what it reverts (for messages) and the command that reverts it.</summary>
    public sealed record Step(string What, string[] Command);

    /// <summary>The file's content. <c>NetnsInode</c>: the inode of the writer's network namespace (0 in journals written before it
    /// was recorded), which <see cref="SweepOrphans"/> uses to tell whether that namespace still exists.</summary>
    private sealed record Content(int Pid, Step[] Steps, ulong NetnsInode = 0);

    /// <summary>Writes the steps (oldest first) atomically; a failure to write is reported, never thrown.</summary>
    public void Write(IReadOnlyList<Step> steps, Action<string>? logError = null)
    {
        try
        {
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            string tmp = Path + ".tmp";
            File.WriteAllText(tmp, JsonSerializer.Serialize(new Content(Environment.ProcessId, steps.ToArray(), _netnsInode)));
            File.Move(tmp, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logError?.Invoke($"cannot write {Path} (what a crash would leave could not be removed at the next start): {e.Message}");
        }
    }

    public void Delete()
    {
        try { File.Delete(Path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Undoes what a dead process's journal lists, newest first, and deletes the journal. Returns one line per step
    /// ("removed ..." or why it could not be). Nothing happens when there is no journal or its process still runs.
    /// </summary>
    public IReadOnlyList<string> Recover()
    {
        Content? c;
        try { c = JsonSerializer.Deserialize<Content>(File.ReadAllText(Path)); }
        catch (FileNotFoundException) { return []; }
        catch (DirectoryNotFoundException) { return []; }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return [$"cannot read {Path}: {e.Message}"];
        }
        if (c is null) return [];
        if (c.Pid != Environment.ProcessId && System.IO.Directory.Exists($"/proc/{c.Pid}"))
            return [$"{Path} belongs to process {c.Pid}, which is running: left alone"];
        var lines = new List<string>();
        for (int i = c.Steps.Length - 1; i >= 0; i--)
        {
            var s = c.Steps[i];
            string? err = Run(s.Command);
            lines.Add(err is null ? $"removed what process {c.Pid} left: {s.What}" : $"left by process {c.Pid}: {s.What}: already gone ({err})");
        }
        Delete();
        return lines;
    }

    /// <summary>
    /// Deletes the journals in <paramref name="directory"/> (default <see cref="Directory"/>) that no start can act on any
    /// more: their process is gone and so is the network namespace it ran in (a container or a test namespace deleted
    /// after a kill -9). Journals are named by namespace cookie, which is never reused, so nothing would ever read such a
    /// file again, and everything it lists went with its namespace. Left alone: a journal whose process runs, whose
    /// namespace may still exist (held by a process, a thread, an open descriptor or a bind mount visible here), that
    /// names another namespace in a step, that predates the namespace field, or that cannot be read. Returns one line per
    /// file removed.
    /// </summary>
    /// <param name="liveNamespaces">The namespace inodes that exist, null when they cannot all be seen (tests); default:
    /// <see cref="LiveNetnsInodes"/>.</param>
    public static IReadOnlyList<string> SweepOrphans(string? directory = null, Func<IReadOnlySet<ulong>?>? liveNamespaces = null)
    {
        directory ??= Directory;
        string[] files;
        try { files = System.IO.Directory.GetFiles(directory, "*.json"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
        var removed = new List<string>();
        IReadOnlySet<ulong>? live = null;
        bool listed = false;
        foreach (var f in files)
        {
            Content? c;
            try { c = JsonSerializer.Deserialize<Content>(File.ReadAllText(f)); }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { continue; }
            if (c is null || c.NetnsInode == 0 || c.Pid == Environment.ProcessId || System.IO.Directory.Exists($"/proc/{c.Pid}")) continue;
            if (c.Steps.Any(NamesAnotherNamespace)) continue;
            if (!listed) { live = (liveNamespaces ?? LiveNetnsInodes)(); listed = true; }
            if (live is null) return removed;   // some namespaces are hidden from this process: nothing is provably gone
            if (live.Contains(c.NetnsInode)) continue;
            try { File.Delete(f); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            removed.Add($"removed {f}: process {c.Pid} and its network namespace are gone ({c.Steps.Length} step(s) went with it)");
        }
        return removed;
    }

    // A step run in another namespace than the writer's ("ip -n NS ...", a sysctl of a named namespace) outlives the writer's.
    private static bool NamesAnotherNamespace(Step s) =>
        s.Command.Length > 1 && ((s.Command[0] == "sysctl" && s.Command[1].Length > 0) ||
                                 (s.Command[0] is "ip" or "nft" && s.Command.Any(a => a is "-n" or "-netns" or "netns" or "exec")));

    /// <summary>
    /// Inodes of the network namespaces that exist: those of every thread (/proc/PID/task/TID/ns/net), of every descriptor
    /// that holds one (/proc/PID/fd), and of nsfs bind mounts (/proc/self/mountinfo, as `ip netns add` makes). Null when
    /// this process may not look at some of them (another user's process, without CAP_SYS_PTRACE): the set would be
    /// incomplete. A process that exits during the walk is skipped.
    /// </summary>
    public static IReadOnlySet<ulong>? LiveNetnsInodes()
    {
        var set = new HashSet<ulong>();
        bool complete = true;
        void Add(string link)
        {
            try
            {
                if (new FileInfo(link).LinkTarget is { } t && t.StartsWith("net:[", StringComparison.Ordinal) && ParseInode(t) is { } i) set.Add(i);
            }
            catch (UnauthorizedAccessException) { complete = false; }
            catch (IOException) { }   // gone meanwhile
        }
        string[] List(string path, bool directories)
        {
            try { return directories ? System.IO.Directory.GetDirectories(path) : System.IO.Directory.GetFiles(path); }
            catch (UnauthorizedAccessException) { complete = false; return []; }
            catch (IOException) { return []; }
        }
        foreach (var proc in List("/proc", directories: true))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(proc), out _)) continue;
            foreach (var task in List(proc + "/task", directories: true)) Add(task + "/ns/net");
            foreach (var fd in List(proc + "/fd", directories: false)) Add(fd);
        }
        try
        {
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                // "ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - nsfs nsfs rw": the root of an nsfs mount is "net:[INODE]".
                var parts = line.Split(' ');
                if (parts.Length > 4 && parts[3].StartsWith("net:[", StringComparison.Ordinal) && line.Contains(" - nsfs ", StringComparison.Ordinal)
                    && ParseInode(parts[3]) is { } i) set.Add(i);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { complete = false; }
        return complete ? set : null;
    }

    private static ulong? ParseInode(string target)   // "net:[4026531840]"
    {
        int a = target.IndexOf('['), b = target.IndexOf(']');
        return a >= 0 && b > a && ulong.TryParse(target.AsSpan(a + 1, b - a - 1), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out ulong v) ? v : null;
    }

    /// <summary>The inode of the calling thread's network namespace (/proc/thread-self/ns/net), 0 when it cannot be read.</summary>
    public static ulong CurrentNetnsInode()
    {
        try { return new FileInfo("/proc/thread-self/ns/net").LinkTarget is { } t && ParseInode(t) is { } i ? i : 0; }
        catch (IOException) { return 0; }
    }

    // ["ip", args...], ["nft", args...] or ["sysctl", netns or "", name, value].
    private static string? Run(string[] cmd)
    {
        try
        {
            if (cmd.Length == 4 && cmd[0] == "sysctl")
            {
                string path = HostNetwork.SysctlPath(cmd[2]);
                if (cmd[1].Length == 0) File.WriteAllText(path, cmd[3] + "\n");
                else NetworkNamespace.Run(cmd[1], () => { File.WriteAllText(path, cmd[3] + "\n"); return 0; });
                return null;
            }
            if (cmd.Length > 1 && cmd[0] is "ip" or "nft")
            {
                var r = ExternalTool.Run(cmd[0], cmd[1..]);
                return r.ExitCode == 0 ? null : r.Stderr.Trim();
            }
            return "unknown command";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HostNetworkException)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// This process's network namespace: its cookie (SO_NETNS_COOKIE, never reused while the machine runs), else its inode.
    /// Inodes are reused once a namespace is gone, so a journal named by inode could be replayed into a new, unrelated
    /// namespace (seen in the test suite, which creates and deletes hundreds); a cookie cannot.
    /// </summary>
    private static string NamespaceId()
    {
        try
        {
            using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
                System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
            Span<byte> cookie = stackalloc byte[8];
            if (s.GetRawSocketOption(SolSocket, SoNetnsCookie, cookie) == 8)
                return "netns" + BitConverter.ToUInt64(cookie).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (System.Net.Sockets.SocketException) { }   // kernels before 5.14
        ulong inode = CurrentNetnsInode();
        return inode != 0 ? "net" + inode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "net";
    }

    private const int SolSocket = 1, SoNetnsCookie = 71;
}

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

    public HostJournal(string path) => Path = path;

    public string Path { get; }

    /// <summary>The journal of daemon <paramref name="name"/> (e.g. "director-tunlb0") in this process's network namespace.</summary>
    public static HostJournal For(string name) => new(System.IO.Path.Combine(Directory, $"{name}-{NamespaceId()}.json"));

    /// <summary>One undo step: what it reverts (for messages) and the command that reverts it.</summary>
    public sealed record Step(string What, string[] Command);

    private sealed record Content(int Pid, Step[] Steps);

    /// <summary>Writes the steps (oldest first) atomically; a failure to write is reported, never thrown.</summary>
    public void Write(IReadOnlyList<Step> steps, Action<string>? logError = null)
    {
        try
        {
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            string tmp = Path + ".tmp";
            File.WriteAllText(tmp, JsonSerializer.Serialize(new Content(Environment.ProcessId, steps.ToArray())));
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
        try
        {
            var target = new FileInfo("/proc/self/ns/net").LinkTarget ?? "";   // "net:[4026531840]"
            var digits = new string(target.Where(char.IsAsciiDigit).ToArray());
            return digits.Length > 0 ? "net" + digits : "net";
        }
        catch (IOException) { return "net"; }
    }

    private const int SolSocket = 1, SoNetnsCookie = 71;
}

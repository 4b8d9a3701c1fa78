using System.Runtime.ExceptionServices;

namespace TunLB.Linux;

/// <summary>
/// Network namespaces by name (the /var/run/netns/&lt;name&gt; files that `ip netns add` creates).
/// setns(2) moves only the calling thread; sockets and TUN devices opened by that thread belong to the namespace for
/// their whole life, whichever thread uses them afterwards. Reads of /proc/sys/net made by that thread see the
/// namespace's sysctls.
/// </summary>
public static class NetworkNamespace
{
    public const string NetnsDirectory = "/var/run/netns";

    /// <summary>
    /// Moves the calling thread into the named namespace. Only for threads you own (never a thread-pool thread):
    /// the thread stays there until it ends or enters another namespace.
    /// </summary>
    public static void Enter(string name) => EnterPath(Path.Combine(NetnsDirectory, name));

    /// <summary>Moves the calling thread into the network namespace at <paramref name="path"/> (e.g. /proc/1/ns/net).</summary>
    public static void EnterPath(string path)
    {
        int fd = Interop.open(path, Interop.O_RDONLY | Interop.O_CLOEXEC);
        if (fd < 0) throw NativeErrorException.FromLastError($"open {path}");
        try
        {
            if (Interop.setns(fd, Interop.CLONE_NEWNET) < 0)
                throw NativeErrorException.FromLastError($"setns {path}");
        }
        finally
        {
            Interop.close(fd);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a new dedicated thread that first enters the named namespace, waits for it,
    /// and rethrows its exception if any. <paramref name="name"/> null runs in the current process's namespace.
    /// </summary>
    public static void Run(string? name, Action action) => Run<object?>(name, () => { action(); return null; });

    /// <inheritdoc cref="Run(string?, Action)"/>
    public static T Run<T>(string? name, Func<T> func)
    {
        ArgumentNullException.ThrowIfNull(func);
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (name is not null) Enter(name);
                result = func();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = name is null ? "netns" : $"netns {name}" };
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }
}

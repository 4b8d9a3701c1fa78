using TunLB.Core.DataPath;
using TunLB.Core.Egress;
using TunLB.Core.Packets;
using TunLB.Linux;

namespace TunLB.Director.Workers;

/// <summary>
/// One data-path worker's loop: wait for a packet on its receiver, drain up to <see cref="MaxInputsPerBatch"/> queued
/// packets through its engine, send all their output with one <see cref="IPacketSender.SendMany"/>; between batches run
/// the control work queued for this worker and, every <see cref="ExpireIntervalMs"/>, connection expiry and the heartbeat.
/// </summary>
/// <remarks>
/// The worker owns its engine, buffers and ports: nothing on the per-packet path is shared, allocated, locked, thrown
/// or logged. It is built from those parts (not from the director's state), so tests drive it with in-memory ports.
/// </remarks>
public sealed class DirectorWorker
{
    // Batching: after a blocking wait for the first packet, drain up to this many queued packets without waiting,
    // then send all their output with sendmmsg(2): two system calls per packet become about one.
    public const int MaxInputsPerBatch = 32;
    /// <summary>How often (at least) the worker expires connections and beats, in its clock's milliseconds.</summary>
    public const int ExpireIntervalMs = 100;
    // One packet buffer: TUN MTU is at most 65515, and the output adds one outer header.
    private const int BufferSize = 65536 + 64;
    internal const int OutputBufferSize = 1 << 20;
    // Room one more input needs: a 64 KiB packet's tunnel fragments plus an ICMP reply; and descriptor slots.
    internal const int MinOutputRoom = 160 * 1024;
    private const int MinPacketSlots = OutputPacket.DefaultMaxPackets + 2;
    // Connection expiry work per tick (slots examined).
    private const int ExpireBudget = 4096;

    private readonly int _index;
    private readonly IPacketReceiver _input;
    private readonly IPacketSender _output;
    private readonly DirectorEngine _engine;
    private readonly EgressAnswerRecorder _egress;
    private readonly WorkerCommandQueue _commands;
    private readonly TunnelSendTotals _sent;
    private readonly Func<long> _clock;
    private readonly Action<string> _logError;
    private readonly string _name;
    private readonly BusyPoller _busy;
    private long _heartbeat;
    private volatile bool _stop;

    /// <param name="index">This worker's slot in <paramref name="commands"/> and <paramref name="sent"/>.</param>
    /// <param name="clock">Milliseconds, monotonic (<see cref="Environment.TickCount64"/> when null).</param>
    /// <param name="logError">Receives one line if the loop dies of an exception.</param>
    /// <param name="name">How that line names the worker ("worker", "worker 1").</param>
    /// <param name="busyPollUs">Longest busy-poll before blocking after a batch with packets (<see cref="BusyPoller"/>); 0 = none.</param>
    public DirectorWorker(int index, IPacketReceiver input, IPacketSender output, DirectorEngine engine, EgressAnswerRecorder egress,
                          WorkerCommandQueue commands, TunnelSendTotals sent, Func<long>? clock = null,
                          Action<string>? logError = null, string name = "worker", int busyPollUs = 0)
    {
        _busy = new BusyPoller(busyPollUs);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, commands.Workers);
        _index = index; _input = input; _output = output; _engine = engine; _egress = egress;
        _commands = commands; _sent = sent; _clock = clock ?? (() => Environment.TickCount64);
        _logError = logError ?? (_ => { }); _name = name;
    }

    public int Index => _index;

    /// <summary>This worker's busy-polling (its counters).</summary>
    public BusyPoller BusyPoll => _busy;

    /// <summary>Loops with expiry so far: at least one per <see cref="ExpireIntervalMs"/> while the worker runs (the watchdog's proof of progress).</summary>
    public long Heartbeat => Interlocked.Read(ref _heartbeat);

    /// <summary>Makes <see cref="Run"/> return after its current wait (at most 100 ms).</summary>
    public void Stop() => _stop = true;

    /// <summary>
    /// The loop, on the calling thread, until <see cref="Stop"/> or the receiver returns -1. On the way out the worker's
    /// command queue is detached, so control work queued for it runs inline from then on.
    /// </summary>
    public void Run()
    {
        var inBuf = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        var outBuf = GC.AllocateUninitializedArray<byte>(OutputBufferSize, pinned: true);
        var meta = new OutputPacket[MaxInputsPerBatch * 4 + MinPacketSlots];
        var port = _input; var tx = _output; var engine = _engine; var egress = _egress; var commands = _commands;
        int w = _index;
        long lastExpire = _clock();
        var busy = _busy;
        bool flowing = false;
        try
        {
            while (!_stop)
            {
                // Right after packets, look again without sleeping for a while (busy_poll_us); then block.
                int n = flowing && busy.Enabled ? busy.Spin(port, inBuf) : 0;
                if (n == 0) n = port.Receive(inBuf, 100);
                flowing = n > 0;
                long now = _clock();
                int used = 0, total = 0, inputs = 0;
                while (n > 0)
                {
                    // ICMP errors quoting an egress-check probe are recorded (for `tunlb egress-check`); everything
                    // else goes through the engine, which counts its verdict and writes what to send: the tunnelled
                    // packet (or its outer fragments) and/or an ICMP reply to the client.
                    if (!(IsIcmpError(inBuf) && egress.TryRecord(inBuf.AsSpan(0, n), now)))
                    {
                        engine.Process(inBuf.AsSpan(0, n), outBuf.AsSpan(used), meta.AsSpan(total), now, out int c);
                        int end = used;
                        for (int i = total; i < total + c; i++)
                        {
                            meta[i].Offset += used;
                            end = Math.Max(end, meta[i].Offset + meta[i].Length);
                        }
                        used = end;
                        total += c;
                    }
                    if (++inputs >= MaxInputsPerBatch || OutputBufferSize - used < MinOutputRoom || meta.Length - total < MinPacketSlots)
                        break;
                    n = port.Receive(inBuf, 0);
                }
                if (total > 0)
                {
                    int failed = tx.SendMany(outBuf.AsSpan(0, used), meta.AsSpan(0, total));
                    if (failed > 0) engine.Drops[(int)DropReason.SendError] += failed;
                    _sent.Report(w, tx.SentPackets(OutputKind.Tunnel), tx.SentBytes);
                }
                if (n < 0) break;
                // Control work (connection listing, zeroing, timeouts): one volatile read when there is none.
                if (commands.HasPending(w)) commands.RunPending(w);
                if (now - lastExpire >= ExpireIntervalMs)
                {
                    engine.Expire(now, ExpireBudget);
                    lastExpire = now;
                    Interlocked.Increment(ref _heartbeat);
                }
            }
        }
        catch (Exception e)
        {
            _logError($"tunlb director: {_name} stopped: {e}");
        }
        finally
        {
            commands.SetAttached(w, false);
        }
    }

    /// <summary>ICMP (IPv4 protocol 1) or ICMPv6 (next header 58, no extension header): worth offering to the egress recorder.</summary>
    private static bool IsIcmpError(byte[] p) =>
        ((p[0] >> 4) == 4 && p[9] == IpProtocol.Icmp) || ((p[0] >> 4) == 6 && p[6] == IcmpErrorV6.NextHeaderIcmpV6);
}

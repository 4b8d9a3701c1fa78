using TunLB.Core.DataPath;
using TunLB.Core.Packets;
using TunLB.Linux;

namespace TunLB.RealServer;

/// <summary>
/// One receive loop of the real-server agent: takes a batch of tunnelled datagrams per system call (recvmmsg), checks
/// each with its own <see cref="DecapFilter"/> (outer source a director, inner destination a VIP; counters by reason)
/// and injects each accepted inner packet. One thread runs <see cref="Run"/>; the counters are written by it alone and
/// read loosely by others. Nothing per packet allocates, locks, logs or throws.
/// </summary>
public sealed class DecapWorker
{
    private readonly IDatagramBatchReceiver _input;
    private readonly IPacketInjector _output;
    private readonly DecapInput _kind;
    private readonly byte _protocol;
    private volatile bool _stop;

    /// <param name="input">The socket (or test double) to receive from.</param>
    /// <param name="filter">This worker's filter; its counters are this worker's verdicts.</param>
    /// <param name="kind">What the datagrams are.</param>
    /// <param name="protocol">For <see cref="DecapInput.Ipv6Payload"/>: the next header the raw socket was opened for (4 or 41).</param>
    /// <param name="output">Where accepted inner packets go.</param>
    public DecapWorker(IDatagramBatchReceiver input, DecapFilter filter, DecapInput kind, byte protocol, IPacketInjector output)
    {
        _input = input; Filter = filter; _kind = kind; _protocol = protocol; _output = output;
    }

    public DecapFilter Filter { get; }

    /// <summary>Inner packets injected.</summary>
    public long Injected;
    /// <summary>Inner packets the injector refused (e.g. the TUN device went down).</summary>
    public long InjectErrors;
    /// <summary>Receive calls that returned datagrams; <c>Filter.Accepted + Filter.Dropped</c> over this is the mean batch.</summary>
    public long Batches;

    /// <summary>Receives and injects until <see cref="Stop"/> is called or the input is closed. Owns its batch.</summary>
    public void Run(int batchCapacity = DatagramBatch.DefaultCapacity, int timeoutMs = 200)
    {
        using var batch = new DatagramBatch(batchCapacity);
        while (!_stop)
        {
            int n = _input.ReceiveMany(batch, timeoutMs);
            if (n < 0) break;
            if (n > 0) Process(batch);
        }
    }

    /// <summary>Makes <see cref="Run"/> return after its current wait (at most its timeout).</summary>
    public void Stop() => _stop = true;

    /// <summary>Checks every datagram of <paramref name="batch"/> and injects the accepted ones; returns how many were injected.</summary>
    public int Process(DatagramBatch batch)
    {
        Batches++;
        int injected = 0, failed = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            Span<byte> d = batch[i];
            int off, len;
            DropReason verdict = _kind switch
            {
                DecapInput.Ipv4Packet => Filter.Check(d, out off, out len),
                DecapInput.Ipv6Payload => Filter.CheckPayload(batch.Source(i), _protocol, d, out off, out len),
                _ => Filter.CheckGue(batch.Source(i), d, out off, out len),
            };
            if (verdict != DropReason.None) continue;
            if (_output.Inject(d.Slice(off, len))) injected++;
            else failed++;
        }
        Injected += injected;
        InjectErrors += failed;
        return injected;
    }
}

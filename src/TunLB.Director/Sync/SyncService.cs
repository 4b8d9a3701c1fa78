using System.Collections.Concurrent;
using System.Text;
using TunLB.Control.Configuration;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Sync;
using TunLB.Director.Workers;

namespace TunLB.Director.Sync;

/// <summary>
/// Connection sync with the peer directors (docs/connection-sync.md), beside the data path, on two threads of its own:
/// <list type="bullet">
/// <item>the sender drains every worker's <see cref="SyncEventQueue"/> every <see cref="TickMs"/> ms into IPVS sync v1
/// messages to each peer, within <c>max_messages_per_second</c> (records over the cap are dropped and counted), streams
/// table snapshots to peers that asked for them, and asks the peers for theirs until it has them or
/// <c>resync_wait</c> runs out;</item>
/// <item>the receiver checks each datagram (a peer's address, layout, syncid, MAC; each failure counted) and hands the
/// records to the workers through their command queues, so a worker's table keeps its single writer.</item>
/// </list>
/// The workers never wait for either thread: a full ring drops the record (queue_full).
/// </summary>
public sealed class SyncService : IDisposable
{
    /// <summary>The sender's period: the most a record waits before it leaves.</summary>
    public const int TickMs = 10;
    /// <summary>How often a director still waiting for a peer's table asks again.</summary>
    public const int RequestIntervalMs = 1000;
    /// <summary>Record batches a worker may have waiting in its command queue before more are dropped (queue_full).</summary>
    public const int MaxPendingBatches = 4096;

    private readonly SyncSettings _settings;
    private readonly IReadOnlyList<DirectorEngine> _engines;
    private readonly WorkerCommandQueue _commands;
    private readonly ISyncTransport _transport;
    private readonly SyncStatus _status;
    private readonly Func<long> _clock;
    private readonly Action<string> _log;
    private readonly byte[] _key;
    private readonly HashSet<IpAddress> _peers;
    private readonly SyncEventQueue[] _queues;
    private readonly SyncMessageBuilder _live;
    private readonly SyncMessageBuilder _bulk;
    private readonly ConcurrentQueue<IpAddress> _bulkRequests = new();
    private readonly ConcurrentDictionary<IpAddress, bool> _answered = new();
    private readonly int[] _pendingBatches;
    private readonly List<BulkJob> _jobs = [];
    private Thread? _sender, _receiver;
    private volatile bool _stop;
    private long _startedAtMs, _lastRequestMs;
    private double _tokens;
    private long _lastRefillMs;

    public SyncCounters Counters { get; } = new();

    public SyncService(SyncSettings settings, IReadOnlyList<DirectorEngine> engines, WorkerCommandQueue commands, ISyncTransport transport,
        SyncStatus status, Func<long>? clock = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings; _engines = engines; _commands = commands; _transport = transport; _status = status;
        _clock = clock ?? (() => Environment.TickCount64);
        _log = log ?? (_ => { });
        _key = Encoding.UTF8.GetBytes(settings.Key);
        _peers = [.. settings.Peers];
        _live = new SyncMessageBuilder(_key, (byte)settings.SyncId);
        _bulk = new SyncMessageBuilder(_key, (byte)settings.SyncId);
        _pendingBatches = new int[engines.Count];
        _queues = new SyncEventQueue[engines.Count];
        for (int w = 0; w < engines.Count; w++) _queues[w] = new SyncEventQueue(settings.QueueLength);
    }

    public IReadOnlyList<IpAddress> Peers => _settings.Peers;

    /// <summary>The <c>[sync]</c> table it runs with (the config renderer writes it back).</summary>
    public SyncSettings Settings => _settings;

    /// <summary>Records dropped because a worker's ring was full, plus batches a busy worker could not take.</summary>
    public long QueueFull => _queues.Sum(q => q.Dropped) + SyncCounters.Read(ref Counters.QueueFullApply);

    /// <summary>Records waiting in the workers' rings.</summary>
    public int Queued => _queues.Sum(q => q.Count);

    /// <summary>The peers whose table this director has (their bulk answer ended).</summary>
    public IReadOnlyList<IpAddress> Answered => _answered.Keys.ToArray();

    /// <summary>Gives every engine its ring: call before the workers start.</summary>
    public void AttachQueues()
    {
        for (int w = 0; w < _engines.Count; w++) _engines[w].SyncQueue = _queues[w];
    }

    /// <summary>Starts both threads and asks every peer for its table.</summary>
    public void Start()
    {
        Begin(_clock());
        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "tunlb-sync-rx" };
        _sender = new Thread(SendLoop) { IsBackground = true, Name = "tunlb-sync-tx" };
        _receiver.Start();
        _sender.Start();
    }

    /// <summary>
    /// Starts the clock of the resync wait and the rate cap without threads: <see cref="Start"/> calls it; tests call it and
    /// then drive <see cref="Tick"/> and <see cref="Handle"/> themselves.
    /// </summary>
    public void Begin(long now)
    {
        _startedAtMs = _lastRefillMs = now;
        _lastRequestMs = long.MinValue / 2;
        _tokens = Burst;
        _status.Set(false, "starting");
        _status.Attach(this);
        UpdateSynced(now);
    }

    /// <summary>Blocks until synced or <c>resync_wait</c> ran out (the director's ready line waits for it).</summary>
    public void WaitSynced()
    {
        long deadline = _startedAtMs + _settings.ResyncWait * 1000L + 100;
        while (!_status.Synced && !_stop && _clock() < deadline) Thread.Sleep(20);
    }

    private double Burst => Math.Max(1.0, _settings.MaxMessagesPerSecond / 10.0);

    private void SendLoop()
    {
        while (!_stop)
        {
            try { Tick(_clock()); }
            catch (Exception e) { _log($"tunlb director: sync: {e.Message}"); }
            Thread.Sleep(TickMs);
        }
    }

    /// <summary>One sender round: refill, resync requests, live records, then bulk answers with what the cap leaves.</summary>
    public void Tick(long now)
    {
        _tokens = Math.Min(Burst, _tokens + (now - _lastRefillMs) * _settings.MaxMessagesPerSecond / 1000.0);
        _lastRefillMs = now;
        UpdateSynced(now);
        if (!_status.Synced && now - _lastRequestMs >= RequestIntervalMs)
        {
            _lastRequestMs = now;
            var request = _bulk.Control(SyncMessageKind.BulkRequest);
            foreach (var p in _settings.Peers)
                if (!_answered.ContainsKey(p) && SendTo(request.Span, p)) SyncCounters.Add(ref Counters.BulkRequestsSent);
        }
        SendLive();
        StartRequestedBulks(now);
        SendBulk();
    }

    private void SendLive()
    {
        _live.Reset();
        foreach (var q in _queues)
            while (q.TryPop(out var r))
            {
                if (_live.TryAdd(r)) continue;
                FlushLive();
                _live.TryAdd(r);
            }
        if (_live.Count > 0) FlushLive();
    }

    /// <summary>Sends the live message to every peer, or drops its records when the cap leaves no room (rate_cap).</summary>
    private void FlushLive()
    {
        int n = _live.Count, peers = _settings.Peers.Count;
        if (_tokens < peers)
        {
            SyncCounters.Add(ref Counters.RateCap, n);
            _live.Reset();
            return;
        }
        _tokens -= peers;
        var msg = _live.Seal();
        foreach (var p in _settings.Peers)
            if (SendTo(msg.Span, p)) SyncCounters.Add(ref Counters.RecordsSent, n);
        _live.Reset();
    }

    private void StartRequestedBulks(long now)
    {
        while (_bulkRequests.TryDequeue(out var peer))
        {
            _jobs.RemoveAll(j => j.Peer == peer); // a peer that asks again starts over
            List<SyncRecord>[] parts;
            try { parts = _commands.Run(_engines, e => e.SyncSnapshot(_clock())); }
            catch (WorkerTimeoutException e)
            {
                _log($"tunlb director: sync: cannot answer {peer}'s table request: {e.Message}");
                continue;
            }
            var all = new List<SyncRecord>(parts.Sum(p => p.Count));
            foreach (var p in parts) all.AddRange(p);
            _jobs.Add(new BulkJob(peer, all));
            SyncCounters.Add(ref Counters.BulkRequestsAnswered);
            _log($"tunlb director: sync: sending {all.Count} table entr{(all.Count == 1 ? "y" : "ies")} to {peer}");
        }
    }

    /// <summary>Streams the asked-for tables with the tokens left after live records; each ends with a BulkEnd message.</summary>
    private void SendBulk()
    {
        for (int j = 0; j < _jobs.Count && _tokens >= 1;)
        {
            var job = _jobs[j];
            _bulk.Reset();
            while (job.Next < job.Records.Count && _bulk.TryAdd(job.Records[job.Next])) job.Next++;
            _tokens -= 1;
            bool end = job.Next >= job.Records.Count;
            if (_bulk.Count > 0 && SendTo(_bulk.Seal().Span, job.Peer))
                SyncCounters.Add(ref Counters.BulkRecordsSent, _bulk.Count);
            if (!end) continue; // same job again while tokens last
            SendTo(_bulk.Control(SyncMessageKind.BulkEnd).Span, job.Peer);
            _jobs.RemoveAt(j);
        }
    }

    private bool SendTo(ReadOnlySpan<byte> datagram, IpAddress peer)
    {
        if (_transport.Send(datagram, peer))
        {
            SyncCounters.Add(ref Counters.MessagesSent);
            return true;
        }
        SyncCounters.Add(ref Counters.SendErrors);
        return false;
    }

    private void UpdateSynced(long now)
    {
        int missing = _settings.Peers.Count(p => !_answered.ContainsKey(p));
        if (missing == 0) { _status.Set(true, "synced"); return; }
        if (_status.Synced) return; // once serving, a peer that never answered does not take it back
        if (now - _startedAtMs >= _settings.ResyncWait * 1000L)
        {
            var silent = string.Join(", ", _settings.Peers.Where(p => !_answered.ContainsKey(p)));
            _status.Set(true, $"synced (resync_wait {_settings.ResyncWait} s ran out; no table from {silent})");
            _log($"tunlb director: sync: serving without the table of {silent} (resync_wait {_settings.ResyncWait} s ran out)");
            return;
        }
        _status.Set(false, $"waiting for {missing} peer table(s)");
    }

    private void ReceiveLoop()
    {
        var buf = new byte[SyncCodec.MaxDatagram];
        while (!_stop)
        {
            int n;
            IpAddress from;
            try { n = _transport.Receive(buf, 100, out from); }
            catch (Exception e)
            {
                _log($"tunlb director: sync: receive: {e.Message}");
                Thread.Sleep(100);
                continue;
            }
            if (n < 0) return;
            if (n == 0) continue;
            try { Handle(buf.AsSpan(0, n), from); }
            catch (Exception e) { _log($"tunlb director: sync: {e.Message}"); }
        }
    }

    /// <summary>Checks and uses one received datagram (the receiver thread; tests call it directly).</summary>
    public void Handle(ReadOnlySpan<byte> datagram, IpAddress from)
    {
        if (!_peers.Contains(from)) { SyncCounters.Add(ref Counters.NonPeer); return; }
        var result = SyncCodec.Open(datagram, _key, out var header, out var body);
        if (result == SyncOpenResult.BadMac) { SyncCounters.Add(ref Counters.BadMac); return; }
        if (result != SyncOpenResult.Ok) { SyncCounters.Add(ref Counters.Malformed); return; }
        if (header.SyncId != _settings.SyncId) { SyncCounters.Add(ref Counters.WrongSyncId); return; }
        SyncCounters.Add(ref Counters.MessagesReceived);
        switch (header.Kind)
        {
            case SyncMessageKind.BulkRequest:
                _bulkRequests.Enqueue(from);
                return;
            case SyncMessageKind.BulkEnd:
                if (_answered.TryAdd(from, true)) _log($"tunlb director: sync: have the table of {from}");
                UpdateSynced(_clock());
                return;
        }
        var batch = new SyncRecord[header.Count];
        for (int i = 0; i < batch.Length; i++) SyncCodec.TryReadRecord(ref body, out batch[i]); // Open checked them all
        SyncCounters.Add(ref Counters.RecordsReceived, batch.Length);
        Apply(batch);
    }

    /// <summary>
    /// Hands a batch to every worker: each updates the entries it holds, and the worker a record's key hashes to inserts
    /// it when no worker holds it. Busy workers with <see cref="MaxPendingBatches"/> waiting drop it (queue_full).
    /// </summary>
    private void Apply(SyncRecord[] batch)
    {
        int workers = _engines.Count;
        var applied = new int[batch.Length]; // 1 once some worker applied record i (counted once)
        for (int w = 0; w < workers; w++)
        {
            if (Interlocked.Increment(ref _pendingBatches[w]) > MaxPendingBatches)
            {
                Interlocked.Decrement(ref _pendingBatches[w]);
                SyncCounters.Add(ref Counters.QueueFullApply, batch.Length);
                continue;
            }
            var engine = _engines[w];
            int worker = w;
            _commands.Post(w, () =>
            {
                Interlocked.Decrement(ref _pendingBatches[worker]);
                long now = _clock();
                for (int i = 0; i < batch.Length; i++)
                {
                    bool owner = workers == 1 || (int)(FlowHash.Hash(batch[i].Key, 0) % (ulong)workers) == worker;
                    var r = engine.ApplySync(in batch[i], now, owner);
                    if (r == SyncApplyResult.Applied)
                    {
                        if (Interlocked.Exchange(ref applied[i], 1) == 0) SyncCounters.Add(ref Counters.RecordsApplied);
                    }
                    else if (owner) Count(r);
                }
            });
        }
    }

    private void Count(SyncApplyResult r)
    {
        switch (r)
        {
            case SyncApplyResult.UnknownReal: SyncCounters.Add(ref Counters.UnknownReal); break;
            case SyncApplyResult.UnknownService: SyncCounters.Add(ref Counters.UnknownService); break;
            case SyncApplyResult.TableFull: SyncCounters.Add(ref Counters.TableFull); break;
        }
    }

    public void Dispose()
    {
        _stop = true;
        _transport.Dispose();
        _receiver?.Join(1000);
        _sender?.Join(1000);
        foreach (var e in _engines) e.SyncQueue = null;
    }

    private sealed class BulkJob(IpAddress peer, List<SyncRecord> records)
    {
        public IpAddress Peer { get; } = peer;
        public List<SyncRecord> Records { get; } = records;
        public int Next;
    }
}

using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.Control.Egress;

/// <summary>
/// The director's record of egress-check results per real server, with the real servers' <c>site</c> and
/// <c>provider</c> metadata from the config. Thread-safe (one lock; control plane only). Bounded: only current real
/// servers (the caller passes their addresses) are accepted, one result each (the latest).
/// </summary>
public sealed class EgressResultBook
{
    public const int MaxTextLength = 256;
    private static readonly string[] Verdicts = ["allowed", "blocked", "inconclusive"];
    private readonly object _gate = new();
    private Dictionary<IpAddress, (string? Site, string? Provider)> _meta = [];
    private readonly Dictionary<IpAddress, (EgressResultReport Report, DateTimeOffset Received)> _results = [];

    /// <summary>Takes the real servers' metadata from a (re)loaded config (the first table of an address that sets any wins).</summary>
    public void SetMetadata(IEnumerable<RealConfig> reals)
    {
        var map = new Dictionary<IpAddress, (string?, string?)>();
        foreach (var r in reals)
            if (!map.TryGetValue(r.Address, out var m) || (m.Item1 is null && m.Item2 is null)) map[r.Address] = (r.Site, r.Provider);
        lock (_gate) _meta = map;
    }

    /// <summary>The <c>site</c> and <c>provider</c> of a real server from the config (nulls when unset or unknown).</summary>
    public (string? Site, string? Provider) Metadata(IpAddress real)
    {
        lock (_gate) return _meta.GetValueOrDefault(real);
    }

    /// <summary>Validates and stores a report: 400-style errors (every one) or null when stored.</summary>
    public IReadOnlyList<ErrorDto>? Report(EgressResultReport? r, DateTimeOffset now, IReadOnlyCollection<IpAddress> currentReals)
    {
        var errors = new List<ErrorDto>();
        if (r is null) return [new ErrorDto("a JSON body is required")];
        IpAddress real = default;
        if (r.Real is null || !Ip(r.Real, out real)) errors.Add(new ErrorDto("real must be an IP address", "real"));
        if (r.Vip is null || !Ip(r.Vip, out _)) errors.Add(new ErrorDto("vip must be an IP address", "vip"));
        if (r.Target is null || !Ip(r.Target, out _)) errors.Add(new ErrorDto("target must be an IP address", "target"));
        if (r.Verdict is null || !Verdicts.Contains(r.Verdict)) errors.Add(new ErrorDto("verdict must be allowed, blocked or inconclusive", "verdict"));
        if (string.IsNullOrWhiteSpace(r.Summary) || r.Summary.Length > MaxTextLength) errors.Add(new ErrorDto($"summary must be 1..{MaxTextLength} characters", "summary"));
        if (r.BlockingRouter is { } br && !Ip(br, out _)) errors.Add(new ErrorDto("blocking_router must be an IP address", "blocking_router"));
        if (r.BlockingHop is { } bh && (bh < 1 || bh > 255)) errors.Add(new ErrorDto("blocking_hop must be 1..255", "blocking_hop"));
        if (r.FilterLocation is { Length: > MaxTextLength * 2 }) errors.Add(new ErrorDto("filter_location is too long", "filter_location"));
        if (errors.Count > 0) return errors;
        if (!currentReals.Contains(real)) return [new ErrorDto($"{r.Real} is not a real server of this director", "real")];
        lock (_gate)
        {
            _results[real] = (r with { Time = r.Time ?? now }, now);
            foreach (var k in _results.Keys.Where(k => !currentReals.Contains(k)).ToList()) _results.Remove(k);
        }
        return null;
    }

    /// <summary>Every current real server with its metadata and last result, sorted by site (unset last) then address.</summary>
    public List<EgressRealResult> Snapshot(IEnumerable<IpAddress> currentReals)
    {
        lock (_gate)
            return currentReals.Distinct()
                .Select(a => (Address: a, Meta: _meta.GetValueOrDefault(a)))
                .OrderBy(x => x.Meta.Site is null).ThenBy(x => x.Meta.Site, StringComparer.Ordinal).ThenBy(x => x.Address.ToString(), StringComparer.Ordinal)
                .Select(x => _results.TryGetValue(x.Address, out var y)
                    ? new EgressRealResult(x.Address.ToString(), x.Meta.Site, x.Meta.Provider, y.Report.Verdict, y.Report.Summary, y.Report.Vip,
                        y.Report.Target, y.Report.BlockingHop, y.Report.BlockingRouter, y.Report.FilterLocation, y.Report.Time, y.Received)
                    : new EgressRealResult(x.Address.ToString(), x.Meta.Site, x.Meta.Provider, null, null, null, null, null, null, null, null, null))
                .ToList();
    }

    private static bool Ip(string s, out IpAddress a)
    {
        a = default;
        if (s.Contains('/') || s.Contains('%') || !System.Net.IPAddress.TryParse(s, out var ip)) return false;
        a = IpAddress.FromIPAddress(ip);
        return true;
    }
}

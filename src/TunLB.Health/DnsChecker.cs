using System.Diagnostics;

namespace TunLB.Health;

/// <summary>
/// dns: query <see cref="CheckSpec.QueryName"/> / <see cref="CheckSpec.QueryType"/> over UDP and expect a
/// response with the same id, RCODE NOERROR and at least one answer; with <see cref="CheckSpec.RequireAnswer"/> false any
/// NOERROR response passes (keepalived DNS_CHECK, whose default is an SOA query for the root).
/// </summary>
public sealed class DnsChecker : IHealthChecker
{
    public async Task<CheckResult> CheckAsync(CheckContext ctx, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        if (!DnsMessage.TryTypeCode(ctx.Spec.QueryType, out var type))
            return CheckResult.Fail($"unknown query type {ctx.Spec.QueryType}", sw.Elapsed);
        ushort id = (ushort)Random.Shared.Next(1, 65536);
        byte[] query;
        try { query = DnsMessage.Query(id, ctx.Spec.QueryName, type); }
        catch (ArgumentException e) { return CheckResult.Fail(e.Message, sw.Elapsed); }
        var (ok, reply, detail) = await UdpChecker.ExchangeAsync(ctx, query, ct).ConfigureAwait(false);
        if (!ok) return CheckResult.Fail(detail, sw.Elapsed);
        return Evaluate(reply!, id, ctx.Spec, sw.Elapsed);
    }

    public static CheckResult Evaluate(byte[] reply, ushort id, CheckSpec spec, TimeSpan duration)
    {
        if (!DnsMessage.TryReadHeader(reply, out var h) || !h.IsResponse)
            return CheckResult.Fail($"not a DNS response ({reply.Length} bytes)", duration);
        if (h.Id != id) return CheckResult.Fail($"response id {h.Id} does not match query id {id}", duration);
        if (h.Rcode != 0) return CheckResult.Fail($"{DnsMessage.RcodeName(h.Rcode)} for {spec.QueryType} {spec.QueryName}", duration);
        if (h.Answers == 0 && spec.RequireAnswer) return CheckResult.Fail($"no answer for {spec.QueryType} {spec.QueryName}", duration);
        return CheckResult.Pass($"{h.Answers} answer(s) for {spec.QueryType} {spec.QueryName} in {duration.TotalMilliseconds:0.#} ms", duration);
    }
}

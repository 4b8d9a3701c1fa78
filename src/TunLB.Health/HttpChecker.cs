using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace TunLB.Health;

/// <summary>
/// http / https: GET the path, expect a status in the accepted ranges and, optionally, a substring in the body
/// (keepalived HTTP_GET / SSL_GET). HTTP/1.1 with "Connection: close", written by hand so the socket can be
/// bound to a pinned source port; https adds TLS with SNI = host and optional skipping of verification.
/// </summary>
public sealed class HttpChecker(bool tls) : IHealthChecker
{
    /// <summary>Most of a response read; the rest is ignored.</summary>
    public const int MaxResponseBytes = 256 * 1024;

    public async Task<CheckResult> CheckAsync(CheckContext ctx, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var spec = ctx.Spec;
        if (!StatusRanges.TryParse(spec.ExpectStatus, out var expect, out var err))
            return CheckResult.Fail($"bad expect_status: {err}", sw.Elapsed);
        using var deadline = Checkers.Deadline(ctx, ct);
        string phase = "connect";
        try
        {
            var (s, lease) = await Checkers.ConnectTcpAsync(ctx, deadline.Token).ConfigureAwait(false);
            using (lease)
            using (s)
            {
                Stream stream = new NetworkStream(s, ownsSocket: false);
                if (tls)
                {
                    phase = "tls handshake";
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    var opts = new SslClientAuthenticationOptions { TargetHost = ctx.HostName };
                    if (spec.TlsSkipVerify) opts.RemoteCertificateValidationCallback = (_, _, _, _) => true;
                    await ssl.AuthenticateAsClientAsync(opts, deadline.Token).ConfigureAwait(false);
                    stream = ssl;
                }
                await using (stream)
                {
                    phase = "request";
                    var host = ctx.HostName.Contains(':') && !ctx.HostName.StartsWith('[') ? $"[{ctx.HostName}]" : ctx.HostName;
                    var req = $"GET {spec.Path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tunlb-health\r\nAccept: */*\r\nConnection: close\r\n\r\n";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(req), deadline.Token).ConfigureAwait(false);
                    phase = "response";
                    var buf = new MemoryStream();
                    var chunk = new byte[16384];
                    while (buf.Length < MaxResponseBytes)
                    {
                        int n = await stream.ReadAsync(chunk, deadline.Token).ConfigureAwait(false);
                        if (n == 0) break;
                        buf.Write(chunk, 0, n);
                        if (spec.ExpectBody.Length == 0 && HasHeaders(buf)) break; // the status line is all we need
                    }
                    return Evaluate(buf.ToArray(), expect, spec.ExpectBody, sw.Elapsed);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (AuthenticationException e) { return CheckResult.Fail($"tls: {e.Message}", sw.Elapsed); }
        catch (Exception e) { return CheckResult.Fail(Checkers.Describe(e, ctx, phase), sw.Elapsed); }
    }

    private static bool HasHeaders(MemoryStream ms) =>
        ms.GetBuffer().AsSpan(0, (int)ms.Length).IndexOf("\r\n\r\n"u8) >= 0;

    /// <summary>Judges a raw HTTP response (exposed for tests).</summary>
    public static CheckResult Evaluate(byte[] response, StatusRanges expect, string expectBody, TimeSpan duration)
    {
        var text = Encoding.Latin1.GetString(response);
        int eol = text.IndexOf("\r\n", StringComparison.Ordinal);
        var statusLine = eol >= 0 ? text[..eol] : text;
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/", StringComparison.Ordinal) || !int.TryParse(parts[1], out int status))
            return CheckResult.Fail(response.Length == 0 ? "empty response" : $"not an HTTP response: \"{Trim(statusLine)}\"", duration);
        if (!expect.Contains(status))
            return CheckResult.Fail($"status {status}, expected {expect.Text}", duration);
        if (expectBody.Length > 0)
        {
            int hdrEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (hdrEnd < 0) return CheckResult.Fail("response headers incomplete", duration);
            var headers = text[..hdrEnd];
            var body = text[(hdrEnd + 4)..];
            if (headers.Contains("transfer-encoding: chunked", StringComparison.OrdinalIgnoreCase)) body = Dechunk(body);
            if (!body.Contains(expectBody, StringComparison.Ordinal))
                return CheckResult.Fail($"status {status} but body lacks \"{Trim(expectBody)}\"", duration);
        }
        return CheckResult.Pass($"status {status} in {duration.TotalMilliseconds:0.#} ms", duration);
    }

    private static string Dechunk(string s)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < s.Length)
        {
            int eol = s.IndexOf("\r\n", i, StringComparison.Ordinal);
            if (eol < 0) break;
            var sizeText = s[i..eol].Split(';')[0].Trim();
            if (!int.TryParse(sizeText, System.Globalization.NumberStyles.HexNumber, null, out int size) || size == 0) break;
            int start = eol + 2;
            sb.Append(s, start, Math.Min(size, s.Length - start));
            i = start + size + 2;
        }
        return sb.ToString();
    }

    private static string Trim(string s) => s.Length > 60 ? s[..60] + "…" : s;
}

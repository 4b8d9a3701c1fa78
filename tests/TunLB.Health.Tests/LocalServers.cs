using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TunLB.Health.Tests;

/// <summary>Real servers on 127.0.0.1 for the checker tests; each stops on Dispose.</summary>
internal sealed class LocalServer : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly IDisposable _socket;
    public int Port { get; }
    public int Hits;

    private LocalServer(IDisposable socket, int port) { _socket = socket; Port = port; }

    public static LocalServer Tcp(Func<Stream, Task> handle, X509Certificate2? tls = null)
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var s = new LocalServer(new Stopper(l.Stop), ((IPEndPoint)l.LocalEndpoint).Port);
        _ = Task.Run(async () =>
        {
            while (!s._cts.IsCancellationRequested)
            {
                TcpClient c;
                try { c = await l.AcceptTcpClientAsync(s._cts.Token); } catch { return; }
                Interlocked.Increment(ref s.Hits);
                _ = Task.Run(async () =>
                {
                    using (c)
                    {
                        try
                        {
                            Stream st = c.GetStream();
                            if (tls is not null)
                            {
                                var ssl = new SslStream(st);
                                await ssl.AuthenticateAsServerAsync(tls);
                                st = ssl;
                            }
                            await handle(st);
                            await st.FlushAsync();
                        }
                        catch { }
                    }
                });
            }
        });
        return s;
    }

    /// <summary>An HTTP server answering every request with a fixed status and body.</summary>
    public static LocalServer Http(int status, string body, X509Certificate2? tls = null, bool chunked = false) => Tcp(async st =>
    {
        var buf = new byte[4096];
        int n = 0;
        while (!Encoding.ASCII.GetString(buf, 0, n).Contains("\r\n\r\n"))
        {
            int r = await st.ReadAsync(buf.AsMemory(n));
            if (r == 0) return;
            n += r;
        }
        var req = Encoding.ASCII.GetString(buf, 0, n);
        var b = body.Replace("{host}", req.Split("\r\n").FirstOrDefault(l => l.StartsWith("Host:"))?[5..].Trim() ?? "");
        string resp = chunked
            ? $"HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{b.Length / 2:x}\r\n{b[..(b.Length / 2)]}\r\n{(b.Length - b.Length / 2):x}\r\n{b[(b.Length / 2)..]}\r\n0\r\n\r\n"
            : $"HTTP/1.1 {status} X\r\nContent-Length: {b.Length}\r\nConnection: close\r\n\r\n{b}";
        await st.WriteAsync(Encoding.ASCII.GetBytes(resp));
    }, tls);

    /// <summary>A line server (agent-check): writes the line and closes.</summary>
    public static LocalServer Line(string line) => Tcp(st => st.WriteAsync(Encoding.ASCII.GetBytes(line)).AsTask());

    /// <summary>A UDP server: reply(request) or null for no reply.</summary>
    public static LocalServer Udp(Func<byte[], byte[]?> reply)
    {
        var u = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var s = new LocalServer(u, ((IPEndPoint)u.Client.LocalEndPoint!).Port);
        _ = Task.Run(async () =>
        {
            while (!s._cts.IsCancellationRequested)
            {
                UdpReceiveResult r;
                try { r = await u.ReceiveAsync(s._cts.Token); } catch { return; }
                Interlocked.Increment(ref s.Hits);
                if (reply(r.Buffer) is { } answer) await u.SendAsync(answer, r.RemoteEndPoint);
            }
        });
        return s;
    }

    /// <summary>A tiny DNS responder: answers with one A record unless the name is in <paramref name="nx"/>.</summary>
    public static LocalServer Dns(string nx = "missing.example") => Udp(q =>
    {
        // Echo the header and question back; set QR, RA; add one A answer (pointer to the question name).
        int qEnd = 12;
        while (q[qEnd] != 0) qEnd += q[qEnd] + 1;
        qEnd += 5;
        var name = new StringBuilder();
        for (int i = 12; q[i] != 0; i += q[i] + 1) name.Append(Encoding.ASCII.GetString(q, i + 1, q[i])).Append('.');
        var resp = new List<byte>(q[..qEnd]);
        resp[2] = 0x81; resp[3] = 0x80;
        if (name.ToString().TrimEnd('.') == nx) { resp[3] = 0x83; return resp.ToArray(); }
        resp[7] = 1; // ANCOUNT
        resp.AddRange([0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
        return resp.ToArray();
    });

    public void Dispose()
    {
        _cts.Cancel();
        _socket.Dispose();
    }

    private sealed class Stopper(Action a) : IDisposable { public void Dispose() => a(); }

    public static X509Certificate2 SelfSigned(string host)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(host);
        req.CertificateExtensions.Add(san.Build());
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    /// <summary>A port with nothing listening.</summary>
    public static int ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int p = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return p;
    }

    public static CheckContext Ctx(CheckSpec spec, int port) => new()
    {
        Spec = spec,
        Target = new IPEndPoint(IPAddress.Loopback, port),
        RealAddress = IPAddress.Loopback,
        RealPort = port,
        Vip = IPAddress.Parse("203.0.113.10"),
        ServicePort = 80,
    };
}

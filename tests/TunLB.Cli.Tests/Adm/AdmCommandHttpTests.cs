using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TunLB.Cli.Adm;
using TunLB.Control.Api;

namespace TunLB.Cli.Tests.Adm;

/// <summary>A tiny HTTP server on 127.0.0.1 that records requests and answers from a table.</summary>
internal sealed class StubApi : IDisposable
{
    public sealed record Call(string Method, string Path, string Body, string? Authorization);

    private readonly HttpListener _listener;
    private readonly Dictionary<string, (int Status, string Body)> _answers = new();
    private readonly List<Call> _calls = [];
    private readonly Task _loop;

    public int Port { get; }
    public string Api => $"127.0.0.1:{Port}";

    public StubApi()
    {
        // FreePort can race with other tests taking the same port. A listener whose Start failed must not be
        // reused (closing it tries to bind the failed prefix again), so each attempt gets a new one.
        for (int attempt = 0; ; attempt++)
        {
            Port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                listener.Start();
                _listener = listener;
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                try { listener.Abort(); } catch (HttpListenerException) { }
            }
        }
        _loop = Task.Run(Loop);
    }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Answer(string method, string path, int status, object? body = null) =>
        _answers[$"{method} {path}"] = (status, body is null ? "" : JsonSerializer.Serialize(body, body.GetType(), ApiJson.Options));

    public IReadOnlyList<Call> Calls { get { lock (_calls) return _calls.ToList(); } }

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var path = ctx.Request.RawUrl ?? "";
            lock (_calls) _calls.Add(new Call(ctx.Request.HttpMethod, path, body, ctx.Request.Headers["Authorization"]));
            var (status, answer) = _answers.TryGetValue($"{ctx.Request.HttpMethod} {path}", out var a) ? a : (204, "");
            ctx.Response.StatusCode = status;
            if (answer.Length > 0)
            {
                var bytes = Encoding.UTF8.GetBytes(answer);
                ctx.Response.ContentType = "application/json";
                ctx.Response.ContentLength64 = bytes.Length;
                await ctx.Response.OutputStream.WriteAsync(bytes);
            }
            ctx.Response.Close();
        }
    }

    public void Dispose()
    {
        // Close only: Stop followed by Close removes the prefixes twice, and the second removal makes the managed
        // listener bind the port again to look it up, which fails ("Address already in use") once another process took it.
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}

public class AdmCommandHttpTests : IDisposable
{
    private readonly StubApi _api = new();

    public void Dispose() => _api.Dispose();

    private static readonly AdmEnvironment NoEnv = new(_ => null, "/nonexistent/director.toml", null, null);

    private (int Code, string Out, string Err) Run(string line, string stdin = "", bool token = true)
    {
        var args = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        args.AddRange(["--api", _api.Api]);
        if (token) args.AddRange(["--token", "tok"]);
        var o = new StringWriter();
        var e = new StringWriter();
        int code = AdmCommand.Run([.. args], o, e, new StringReader(stdin), NoEnv);
        return (code, o.ToString(), e.ToString());
    }

    private static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}\nactual {actual}");

    private StubApi.Call Single()
    {
        var c = Assert.Single(_api.Calls);
        Assert.Equal("Bearer tok", c.Authorization);
        return c;
    }

    [Fact]
    public void Add_service()
    {
        var (code, _, err) = Run("-A -t 203.0.113.10:80 -s rr -p");
        Assert.Equal("", err);
        Assert.Equal(0, code);
        var c = Single();
        Assert.Equal(("POST", "/api/v1/services"), (c.Method, c.Path));
        AssertJson("""{"protocol":"tcp","vip":"203.0.113.10","port":80,"scheduler":"rr","flags":[],"persistence":300,"persistence_netmask":"255.255.255.255"}""", c.Body);
    }

    [Fact]
    public void Edit_service_sends_every_ipvsadm_field()
    {
        Assert.Equal(0, Run("-E -u [2001:db8::10]:53 -s mh -b mh-port").Code);
        var c = Single();
        Assert.Equal(("PUT", "/api/v1/services/udp/2001%3Adb8%3A%3A10/53"), (c.Method, c.Path));
        AssertJson("""{"scheduler":"mh","flags":["mh-port"],"persistence":0,"persistence_netmask":"128"}""", c.Body);
    }

    [Fact]
    public void Delete_service()
    {
        Assert.Equal(0, Run("-D -t 203.0.113.10:80").Code);
        var c = Single();
        Assert.Equal(("DELETE", "/api/v1/services/tcp/203.0.113.10/80", ""), (c.Method, c.Path, c.Body));
    }

    [Fact]
    public void Clear()
    {
        Assert.Equal(0, Run("-C").Code);
        var c = Single();
        Assert.Equal(("DELETE", "/api/v1/services"), (c.Method, c.Path));
    }

    [Fact]
    public void Add_server()
    {
        Assert.Equal(0, Run("-a -t 203.0.113.10:80 -r 192.0.2.11 -i -w 2 -x 100 -y 50").Code);
        var c = Single();
        Assert.Equal(("POST", "/api/v1/services/tcp/203.0.113.10/80/reals"), (c.Method, c.Path));
        AssertJson("""{"address":"192.0.2.11","port":80,"weight":2,"upper_threshold":100,"lower_threshold":50,"tun_type":"ipip"}""", c.Body);
    }

    [Fact]
    public void Add_gue_server()
    {
        Assert.Equal(0, Run("-a -t 203.0.113.10:80 -r 192.0.2.12 --tun-type gue --tun-port 6080 --tun-csum").Code);
        AssertJson("""{"address":"192.0.2.12","port":80,"weight":1,"upper_threshold":0,"lower_threshold":0,"tun_type":"gue","tun_port":6080,"tun_flags":"csum"}""", Single().Body);
    }

    [Fact]
    public void Edit_server()
    {
        Assert.Equal(0, Run("-e -t 203.0.113.10:80 -r 192.0.2.11:80 -w 0").Code);
        var c = Single();
        Assert.Equal(("PUT", "/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.11/80"), (c.Method, c.Path));
        AssertJson("""{"weight":0,"upper_threshold":0,"lower_threshold":0,"tun_type":"ipip"}""", c.Body);
    }

    [Fact]
    public void Delete_server()
    {
        Assert.Equal(0, Run("-d -t 203.0.113.10:80 -r 192.0.2.11").Code);
        var c = Single();
        Assert.Equal(("DELETE", "/api/v1/services/tcp/203.0.113.10/80/reals/192.0.2.11/80"), (c.Method, c.Path));
    }

    [Fact]
    public void Zero_all_and_one()
    {
        Assert.Equal(0, Run("-Z").Code);
        Assert.Equal(0, Run("-Z -t 203.0.113.10:80").Code);
        var calls = _api.Calls;
        Assert.Equal(2, calls.Count);
        Assert.Equal(("POST", "/api/v1/stats/zero", ""), (calls[0].Method, calls[0].Path, calls[0].Body));
        Assert.Equal(("POST", "/api/v1/stats/zero"), (calls[1].Method, calls[1].Path));
        AssertJson("""{"protocol":"tcp","vip":"203.0.113.10","port":80}""", calls[1].Body);
    }

    [Fact]
    public void Set_timeouts()
    {
        Assert.Equal(0, Run("--set 900 0 300").Code);
        var c = Single();
        Assert.Equal(("PUT", "/api/v1/timeouts"), (c.Method, c.Path));
        AssertJson("""{"tcp":900,"tcp_fin":0,"udp":300}""", c.Body);
    }

    [Fact]
    public void List_numeric()
    {
        _api.Answer("GET", "/api/v1/info", 200, new InfoDto("0.1.0", 4096, 3, "127.0.0.1:9400"));
        _api.Answer("GET", "/api/v1/services", 200, AdmSamples.Table);
        var (code, output, err) = Run("-L -n");
        Assert.Equal("", err);
        Assert.Equal(0, code);
        Assert.Equal(AdmSamples.List, output);
        Assert.Equal(["GET /api/v1/info", "GET /api/v1/services"], _api.Calls.Select(c => $"{c.Method} {c.Path}"));
        Assert.All(_api.Calls, c => Assert.Equal("Bearer tok", c.Authorization));
    }

    [Fact]
    public void List_connections_timeouts_and_one_service()
    {
        _api.Answer("GET", "/api/v1/connections", 200, AdmSamples.Connections);
        _api.Answer("GET", "/api/v1/timeouts", 200, new TimeoutsDto(900, 120, 300));
        _api.Answer("GET", "/api/v1/services/tcp/203.0.113.10/443", 200, AdmSamples.Https);
        Assert.Equal(AdmSamples.Conns, Run("-Lnc").Out);
        Assert.Equal("Timeout (tcp tcpfin udp): 900 120 300\n", Run("-L --timeout").Out);
        Assert.StartsWith("Prot LocalAddress:Port Scheduler Flags\n", Run("-L -n -t 203.0.113.10:443").Out);
    }

    [Fact]
    public void Save()
    {
        _api.Answer("GET", "/api/v1/services", 200, AdmSamples.Table);
        var (code, output, _) = Run("-S -n");
        Assert.Equal(0, code);
        Assert.Equal(AdmSamples.Save, output);
    }

    [Fact]
    public void No_token_no_header()
    {
        Assert.Equal(0, Run("-C", token: false).Code);
        Assert.Null(Assert.Single(_api.Calls).Authorization);
    }

    [Fact]
    public void Api_error_is_one_line_exit_1()
    {
        _api.Answer("POST", "/api/v1/services", 409, new ErrorDto("Service already exists", "vip"));
        var (code, output, err) = Run("-A -t 203.0.113.10:80");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal("Service already exists\n", err);
    }

    [Fact]
    public void Api_error_without_body_names_the_status()
    {
        _api.Answer("DELETE", "/api/v1/services", 500);
        var (code, _, err) = Run("-C");
        Assert.Equal(1, code);
        Assert.StartsWith("the director API answered HTTP 500", err);
    }

    [Fact]
    public void Usage_error_exit_2_without_calls()
    {
        var (code, _, err) = Run("-a -t 203.0.113.10:80 -r 192.0.2.11 -g");
        Assert.Equal(2, code);
        Assert.Equal(AdmParser.NotTunnelMessage + "\n", err);
        Assert.Empty(_api.Calls);
    }

    [Fact]
    public void Unreachable_director()
    {
        // A socket bound but not listening holds the port, so nothing else can take it and connecting is refused.
        using var held = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        held.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        int port = ((System.Net.IPEndPoint)held.LocalEndPoint!).Port;
        var o = new StringWriter();
        var e = new StringWriter();
        int code = AdmCommand.Run(["-L", "-n", "--api", $"127.0.0.1:{port}"], o, e, TextReader.Null, NoEnv);
        Assert.Equal(1, code);
        Assert.StartsWith($"tunlb adm: cannot reach the director API at http://127.0.0.1:{port}: ", e.ToString());
    }

    // --continue: ipvsadm's -R (line by line); without it -R is all or nothing (below and AdmRestoreDirectorTests).
    [Fact]
    public void Restore_continue_applies_lines_in_order_and_stops_at_the_first_failure()
    {
        _api.Answer("POST", "/api/v1/services/tcp/203.0.113.10/443/reals", 404, new ErrorDto("No such service"));
        var input =
            "# saved by ipvsadm\n" +
            "-A -t 203.0.113.10:80 -s rr\n" +
            "\n" +
            "ipvsadm -a -t 203.0.113.10:80 -r 192.0.2.11:80 -i -w 1 --tun-type ipip\n" +
            "-a -t 203.0.113.10:443 -r 192.0.2.21:443 -i -w 5\n" +
            "-C\n";
        var (code, _, err) = Run("-R --continue", input);
        Assert.Equal(1, code);
        Assert.Equal("line 5: No such service\n", err);
        Assert.Equal(
            ["POST /api/v1/services", "POST /api/v1/services/tcp/203.0.113.10/80/reals", "POST /api/v1/services/tcp/203.0.113.10/443/reals"],
            _api.Calls.Select(c => $"{c.Method} {c.Path}"));
    }

    [Fact]
    public void Restore_continue_of_a_save_reproduces_its_requests()
    {
        var (code, _, err) = Run("-R --continue", AdmSamples.Save);
        Assert.Equal("", err);
        Assert.Equal(0, code);
        Assert.Equal(8, _api.Calls.Count);
        Assert.Equal("POST /api/v1/services", $"{_api.Calls[0].Method} {_api.Calls[0].Path}");
        AssertJson("""{"address":"192.0.2.11","port":80,"weight":1,"upper_threshold":1000,"lower_threshold":800,"tun_type":"ipip"}""", _api.Calls[1].Body);
    }

    [Fact]
    public void Restore_continue_syntax_error_names_the_line()
    {
        var (code, _, err) = Run("-R --continue", "-A -t 203.0.113.10:80\n-a -t 203.0.113.10:80 -r 192.0.2.11 -m\n");
        Assert.Equal(2, code);
        Assert.Equal("line 2: " + AdmParser.NotTunnelMessage + "\n", err);
        Assert.Single(_api.Calls);
    }

    [Fact]
    public void Restore_syntax_error_names_the_line_and_sends_nothing()
    {
        var (code, _, err) = Run("-R", "-A -t 203.0.113.10:80\n-a -t 203.0.113.10:80 -r 192.0.2.11 -m\n-A -t 203.0.113.11:80 -s ovf\n");
        Assert.Equal(2, code);
        Assert.StartsWith("line 2: " + AdmParser.NotTunnelMessage + "\nline 3: scheduler `ovf': TunLB has no ovf scheduler", err);
        Assert.Contains("nothing was applied", err);
        Assert.Empty(_api.Calls);
    }

    [Fact]
    public void Restore_of_a_save_is_one_batch()
    {
        var (code, _, err) = Run("-R", AdmSamples.Save);
        Assert.Equal("", err);
        Assert.Equal(0, code);
        var call = Single();
        Assert.Equal("POST /api/v1/batch", $"{call.Method} {call.Path}");
        var ops = JsonNode.Parse(call.Body)!["ops"]!.AsArray();
        Assert.Equal(8, ops.Count);
        Assert.Equal("add-service", (string?)ops[0]!["op"]);
        Assert.Equal(1, (int?)ops[0]!["line"]);
        AssertJson("""{"address":"192.0.2.11","port":80,"weight":1,"upper_threshold":1000,"lower_threshold":800,"tun_type":"ipip"}""", ops[1]!["real"]!.ToJsonString());
    }

    [Fact]
    public void Restore_refused_by_the_director_prints_every_refused_line()
    {
        _api.Answer("POST", "/api/v1/batch", 404, new ErrorDto("2 of 3 operation(s) refused, nothing was changed; operation 2 (line 2): no service",
            "vip", ["operation 2 (line 2): no service tcp 203.0.113.99:80", "operation 3 (line 3): no service tcp 203.0.113.98:80"]));
        var (code, _, err) = Run("-R", "-A -t 203.0.113.10:80\n-a -t 203.0.113.99:80 -r 192.0.2.11\n-a -t 203.0.113.98:80 -r 192.0.2.11\n");
        Assert.Equal(1, code);
        Assert.Contains("operation 2 (line 2): no service tcp 203.0.113.99:80\noperation 3 (line 3): no service tcp 203.0.113.98:80\n", err);
        Assert.EndsWith("nothing was applied\n", err);
    }

    [Theory]
    [InlineData("ipvsadm -A -t 203.0.113.10:80")]
    [InlineData("/sbin/ipvsadm -A -t 203.0.113.10:80")]
    [InlineData("/usr/sbin/ipvsadm -A -t 203.0.113.10:80")]
    [InlineData("sudo ipvsadm -A -t 203.0.113.10:80")]
    [InlineData("sudo -n -u root /sbin/ipvsadm -A -t 203.0.113.10:80 # from a script")]
    [InlineData("  -A -t 203.0.113.10:80")]
    public void Restore_lines_may_name_the_program(string line)
    {
        Assert.Equal(["-A", "-t", "203.0.113.10:80"], AdmRestore.SplitLine(line).Args);
        Assert.Null(AdmRestore.SplitLine(line).Error);
    }

    [Fact]
    public void Restore_refuses_sudo_running_something_else_and_keeps_ipvsadm_as_an_argument()
    {
        Assert.Equal("sudo runs `tee', not ipvsadm", AdmRestore.SplitLine("sudo tee /etc/x").Error);
        // Only the program name is taken off, not a later word that happens to read "ipvsadm".
        Assert.Equal(["-A", "-t", "ipvsadm:80"], AdmRestore.SplitLine("ipvsadm -A -t ipvsadm:80").Args);
    }

    [Fact]
    public void Endpoint_defaults_env_then_config_then_builtin()
    {
        var request = new AdmRequest(AdmCommandKind.List);
        var dir = Directory.CreateTempSubdirectory("tunlb-adm");
        try
        {
            var file = Path.Combine(dir.FullName, "director.toml");
            File.WriteAllText(file, "[director]\napi = \"10.1.1.1:9500\"\napi_token = \"filetok\"\n\n[[service]]\nvip = \"203.0.113.10\"\nport = 80\n");
            Assert.Equal(("10.1.1.1:9500", "filetok"), AdmCommand.ResolveEndpoint(request, new(_ => null, file, null, null)));
            Assert.Equal(("10.2.2.2:1", "envtok"), AdmCommand.ResolveEndpoint(request,
                new(n => n == "TUNLB_API" ? "10.2.2.2:1" : n == "TUNLB_API_TOKEN" ? "envtok" : null, file, null, null)));
            Assert.Equal(("10.3.3.3:2", "cli"), AdmCommand.ResolveEndpoint(request with { Api = "10.3.3.3:2", Token = "cli" },
                new(n => "x", file, null, null)));
            Assert.Equal(("127.0.0.1:9400", null), AdmCommand.ResolveEndpoint(request, NoEnv));
            File.WriteAllText(file, "this is [not toml");
            Assert.Equal(("127.0.0.1:9400", null), AdmCommand.ResolveEndpoint(request, new(_ => null, file, null, null)));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Invalid_api_address_is_a_usage_error()
    {
        var e = new StringWriter();
        Assert.Equal(2, AdmCommand.Run(["-L", "--api", "::1:9400"], new StringWriter(), e, TextReader.Null, NoEnv));
        Assert.StartsWith("tunlb adm: invalid director API address `::1:9400'", e.ToString());
    }

    [Fact]
    public void Help_and_version_need_no_director()
    {
        var o = new StringWriter();
        Assert.Equal(0, AdmCommand.Run(["-h"], o, new StringWriter(), TextReader.Null, NoEnv));
        Assert.Contains("--add-service", o.ToString());
        Assert.Empty(_api.Calls);
    }
}

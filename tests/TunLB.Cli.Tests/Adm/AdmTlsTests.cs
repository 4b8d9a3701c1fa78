using System.Net;
using TunLB.Cli.Adm;
using TunLB.Control.Configuration;
using TunLB.Director.Api;
using TunLB.Director.Management;

namespace TunLB.Cli.Tests.Adm;

/// <summary>
/// <c>tunlb adm</c> against the director's real API (Kestrel) serving TLS with self-signed certificates: verified with
/// --cacert or $TUNLB_CACERT, refused by the system store and on a wrong name (with the reason), pinned from the
/// director's config file, and unverified with -k.
/// </summary>
public sealed class AdmTlsTests : IAsyncLifetime
{
    private const string Config = """
        [director]
        api = "127.0.0.1:9400"
        conn_max = 1000

        [[service]]
        vip = "203.0.113.10"
        port = 80
        protocol = "tcp"
        scheduler = "rr"

        [[service.real]]
        address = "192.0.2.11"
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-adm-tls-").FullName;
    private (string Cert, string Key) _local, _elsewhere, _other;
    private ApiServer _localApi = null!, _elsewhereApi = null!;

    public async Task InitializeAsync()
    {
        _local = TestCertificates.Write(_dir, "local", ["localhost"], [IPAddress.Loopback]);          // names the URL's host
        _elsewhere = TestCertificates.Write(_dir, "elsewhere", ["director.example"], []);              // names another host
        _other = TestCertificates.Write(_dir, "other", ["localhost"], [IPAddress.Loopback]);          // right name, another key
        _localApi = await Start(_local);
        _elsewhereApi = await Start(_elsewhere);
    }

    private static Task<ApiServer> Start((string Cert, string Key) c)
    {
        var state = new DirectorState(ConfigLoader.ParseDirector(Config, "director.toml"), new DirectorStateOptions
        {
            OuterSource = _ => TunLB.Core.Flows.IpAddress.Parse("192.0.2.1"),
            Log = _ => { },
            LogError = _ => { },
            Clock = () => 1000,
            HashSeed = 42,
        });
        return ApiServer.StartAsync(state, state.Settings with { ApiPort = 0, ApiTlsCert = c.Cert, ApiTlsKey = c.Key });
    }

    public async Task DisposeAsync()
    {
        await _localApi.DisposeAsync();
        await _elsewhereApi.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private static string Url(ApiServer api) => $"https://127.0.0.1:{api.EndPoints[0].Port}";

    private (int Code, string Out, string Err) Adm(string[] args, Func<string, string?>? env = null, string? configPath = null)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = AdmCommand.Run(args, o, e, TextReader.Null, new AdmEnvironment(env ?? (_ => null), configPath ?? Path.Combine(_dir, "none.toml"), null, null));
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Verified_with_cacert_or_TUNLB_CACERT()
    {
        Assert.StartsWith("https://", _localApi.BaseAddress);
        var (code, output, err) = Adm(["-L", "-n", "--api", Url(_localApi), "--cacert", _local.Cert]);
        Assert.True(code == 0, err);
        Assert.Contains("TCP  203.0.113.10:80 rr", output);
        Assert.Equal("", err);

        (code, output, err) = Adm(["-L", "-n", "--api", Url(_localApi)], n => n == "TUNLB_CACERT" ? _local.Cert : null);
        Assert.True(code == 0, err);
        Assert.Contains("192.0.2.11:80", output);
    }

    [Fact]
    public void Refused_by_the_system_store_naming_the_url_and_the_reason()
    {
        var (code, output, err) = Adm(["-L", "-n", "--api", Url(_localApi)]);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains($"cannot reach the director API at {Url(_localApi)}", err);
        Assert.Contains("certificate was refused", err);
        Assert.Contains("not trusted by the system's certificate store", err);
        Assert.Contains("--cacert", err);
        Assert.Contains("subject CN=localhost, names DNS:localhost IP:127.0.0.1", err);
    }

    [Fact]
    public void A_certificate_for_another_name_is_refused_even_from_the_given_CA()
    {
        var (code, _, err) = Adm(["-L", "-n", "--api", Url(_elsewhereApi), "--cacert", _elsewhere.Cert]);
        Assert.Equal(1, code);
        Assert.Contains(Url(_elsewhereApi), err);
        Assert.Contains("not issued for the host name of the URL", err);
        Assert.Contains("names DNS:director.example", err);
        Assert.DoesNotContain("not issued by a certificate in --cacert", err); // the chain itself is fine

        // Another CA file: the chain is what is wrong.
        (code, _, err) = Adm(["-L", "-n", "--api", Url(_localApi), "--cacert", _other.Cert]);
        Assert.Equal(1, code);
        Assert.Contains($"not issued by a certificate in --cacert {_other.Cert}", err);
        Assert.DoesNotContain("host name", err);
    }

    [Fact]
    public void Insecure_skips_the_check_with_a_warning()
    {
        foreach (var flag in new[] { "-k", "--insecure" })
        {
            var (code, output, err) = Adm(["-L", "-n", "--api", Url(_elsewhereApi), flag]);
            Assert.True(code == 0, err);
            Assert.Contains("TCP  203.0.113.10:80 rr", output);
            Assert.Contains($"warning: --insecure: the certificate of {Url(_elsewhereApi)} is not checked", err);
        }
    }

    [Fact]
    public void The_directors_own_certificate_is_pinned_from_its_config()
    {
        // The address comes from the director's file, which has api_tls_cert: https, and that certificate is trusted
        // although the system store does not know it and it names director.example, not 127.0.0.1.
        var config = Path.Combine(_dir, "director.toml");
        File.WriteAllText(config, $"[director]\napi = \"127.0.0.1:{_elsewhereApi.EndPoints[0].Port}\"\napi_tls_cert = \"{_elsewhere.Cert}\"\napi_tls_key = \"{_elsewhere.Key}\"\n");
        var (code, output, err) = Adm(["-L", "-n"], configPath: config);
        Assert.True(code == 0, err);
        Assert.Contains("TCP  203.0.113.10:80 rr", output);
        Assert.Equal("", err);

        // The file's certificate is not the one the server presents: refused, saying so.
        File.WriteAllText(config, $"[director]\napi = \"127.0.0.1:{_localApi.EndPoints[0].Port}\"\napi_tls_cert = \"{_other.Cert}\"\n");
        (code, _, err) = Adm(["-L", "-n"], configPath: config);
        Assert.Equal(1, code);
        Assert.Contains($"cannot reach the director API at https://127.0.0.1:{_localApi.EndPoints[0].Port}", err);
        Assert.Contains($"it is not the certificate of api_tls_cert {_other.Cert} (from {config})", err);

        // A pinned file this user cannot read only loses the pin; the refusal says why there was none.
        File.WriteAllText(config, $"[director]\napi = \"127.0.0.1:{_elsewhereApi.EndPoints[0].Port}\"\napi_tls_cert = \"{_dir}/gone.pem\"\n");
        (code, _, err) = Adm(["-L", "-n"], configPath: config);
        Assert.Equal(1, code);
        Assert.Contains("not trusted by the system's certificate store", err);
        Assert.Contains($"no pinned certificate: api_tls_cert {_dir}/gone.pem: cannot read it", err);

        // An address given with --api is not the file's director: no pin, the system store decides.
        File.WriteAllText(config, $"[director]\napi = \"127.0.0.1:1\"\napi_tls_cert = \"{_local.Cert}\"\n");
        (code, _, err) = Adm(["-L", "-n", "--api", Url(_localApi)], configPath: config);
        Assert.Equal(1, code);
        Assert.Contains("not trusted by the system's certificate store", err);
    }

    [Fact]
    public void Plain_http_to_a_TLS_api_says_to_use_https()
    {
        var (code, _, err) = Adm(["-L", "-n", "--api", $"127.0.0.1:{_localApi.EndPoints[0].Port}"]);
        Assert.Equal(1, code);
        Assert.Contains($"cannot reach the director API at http://127.0.0.1:{_localApi.EndPoints[0].Port}", err);
        Assert.Contains("use an https:// address", err);
    }

    [Fact]
    public void An_unreadable_cacert_is_a_usage_error()
    {
        var (code, _, err) = Adm(["-L", "-n", "--api", Url(_localApi), "--cacert", Path.Combine(_dir, "missing.pem")]);
        Assert.Equal(2, code);
        Assert.Contains($"--cacert {Path.Combine(_dir, "missing.pem")}: cannot read it", err);

        (code, _, err) = Adm(["-L", "-n", "--api", Url(_localApi), "--cacert", _local.Key]);
        Assert.Equal(2, code);
        Assert.Contains("no PEM certificate", err);
    }
}

using TunLB.Cli.Adm;

namespace TunLB.Cli.Tests.Adm;

public sealed class AdmEndpointTests
{
    private static AdmRequest List => new(AdmCommandKind.List);

    [Fact]
    public void A_config_with_api_tls_cert_gives_https_and_pins_its_certificate()
    {
        var dir = Directory.CreateTempSubdirectory("tunlb-adm-ep-");
        try
        {
            var file = Path.Combine(dir.FullName, "director.toml");
            File.WriteAllText(file, "[director]\napi = \"192.0.2.1:9500\"\napi_tls_cert = \"/etc/tunlb/api.pem\"\napi_tls_key = \"/etc/tunlb/api.key\"\n");
            var e = AdmEndpoint.Resolve(List, new(_ => null, file, null, null));
            Assert.Equal("https://192.0.2.1:9500", e.Api);
            Assert.Equal(new AdmTrust(null, "/etc/tunlb/api.pem") { PinnedFrom = file }, e.Trust);

            // No api key: the default address, still the file's director, so still https and pinned.
            File.WriteAllText(file, "[director]\napi_tls_cert = \"/etc/tunlb/api.pem\"\n");
            e = AdmEndpoint.Resolve(List, new(_ => null, file, null, null));
            Assert.Equal("https://127.0.0.1:9400", e.Api);
            Assert.Equal("/etc/tunlb/api.pem", e.Trust.PinnedCertFile);

            // --api or $TUNLB_API name some director: no pin; --cacert and $TUNLB_CACERT, -k carried.
            e = AdmEndpoint.Resolve(List with { Api = "https://d1:9400", CaCert = "/ca.pem", Insecure = true }, new(_ => null, file, null, null));
            Assert.Equal(("https://d1:9400", new AdmTrust("/ca.pem", null, true)), (e.Api, e.Trust));
            e = AdmEndpoint.Resolve(List, new(n => n switch { "TUNLB_API" => "https://d2:9400", "TUNLB_CACERT" => "/env-ca.pem", _ => null }, file, null, null));
            Assert.Equal(("https://d2:9400", new AdmTrust("/env-ca.pem")), (e.Api, e.Trust));
            e = AdmEndpoint.Resolve(List with { CaCert = "/cli.pem" }, new(n => n == "TUNLB_CACERT" ? "/env-ca.pem" : null, file, null, null));
            Assert.Equal("/cli.pem", e.Trust.CaFile);

            // Without api_tls_cert: plain HTTP as before, no pin.
            File.WriteAllText(file, "[director]\napi = \"192.0.2.1:9500\"\n");
            e = AdmEndpoint.Resolve(List, new(_ => null, file, null, null));
            Assert.Equal(("192.0.2.1:9500", AdmTrust.Default), (e.Api, e.Trust));
            Assert.Equal("http://192.0.2.1:9500", AdmClient.ToBaseUrl(e.Api));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("-k")]
    [InlineData("--insecure")]
    public void Parser_takes_cacert_and_insecure(string insecure)
    {
        var (r, err) = AdmParser.Parse(["-L", "-n", "--cacert", "/etc/ca.pem", insecure, "--api", "https://d:9400"], null, null);
        Assert.Null(err);
        Assert.Equal(("/etc/ca.pem", true, "https://d:9400"), (r!.CaCert, r.Insecure, r.Api));
        (r, err) = AdmParser.Parse(["-L", "--cacert", "a", "--cacert", "b"], null, null);
        Assert.Equal("multiple 'cacert' options specified", err!.Message.Split(": ").Last());
        (r, _) = AdmParser.Parse(["-L"], null, null);
        Assert.Equal((null, false), (r!.CaCert, r.Insecure));
    }
}

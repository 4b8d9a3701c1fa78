using Tomlyn;
using Tomlyn.Model;

namespace TunLB.Cli.Adm;

/// <summary>The director API <c>tunlb adm</c> talks to: its address (host:port or URL), token and certificate trust.</summary>
public sealed record AdmEndpoint(string Api, string? Token, AdmTrust Trust)
{
    /// <summary>
    /// The address: --api, else $TUNLB_API, else <c>api</c> in [director] of the director's config file
    /// (/etc/tunlb/director.toml), else 127.0.0.1:9400. The token: --token, else $TUNLB_API_TOKEN, else that file's
    /// <c>api_token</c>. The CA file: --cacert, else $TUNLB_CACERT. When the address is the file's (or the default while
    /// the file exists) and the file has <c>api_tls_cert</c>, the address becomes https:// and that certificate is pinned.
    /// </summary>
    public static AdmEndpoint Resolve(AdmRequest r, AdmEnvironment env)
    {
        string? api = r.Api ?? NonEmpty(env.GetEnv("TUNLB_API"));
        string? token = r.Token ?? NonEmpty(env.GetEnv("TUNLB_API_TOKEN"));
        string? pin = null;
        if (api is null || token is null)
        {
            var file = ReadConfig(env.ConfigPath);
            token ??= file.Token;
            if (api is null)
            {
                api = file.Api ?? AdmEnvironment.DefaultApi;
                if (file.TlsCert is not null)
                {
                    // The director serves HTTPS only on that address; its own certificate is the one to expect there.
                    if (!api.Contains("://", StringComparison.Ordinal)) api = "https://" + api;
                    pin = file.TlsCert;
                }
            }
        }
        var trust = new AdmTrust(r.CaCert ?? NonEmpty(env.GetEnv("TUNLB_CACERT")), pin, r.Insecure) { PinnedFrom = pin is null ? null : env.ConfigPath };
        return new AdmEndpoint(api, token, trust);
    }

    /// <summary>[director] api, api_token and api_tls_cert of the director's config file; nulls when it is not there or unreadable.</summary>
    internal static (string? Api, string? Token, string? TlsCert) ReadConfig(string path)
    {
        try
        {
            if (!File.Exists(path)) return (null, null, null);
            var model = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(path));
            if (model is null || !model.TryGetValue("director", out var d) || d is not TomlTable director) return (null, null, null);
            string? Key(string k) => director.TryGetValue(k, out var v) ? NonEmpty(v as string) : null;
            return (Key("api"), Key("api_token"), Key("api_tls_cert"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TomlException)
        {
            return (null, null, null);
        }
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}

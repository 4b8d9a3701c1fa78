namespace TunLB.Control.Configuration;

/// <summary>Readers of the SYN flood and API TLS keys (<see cref="DirectorKeys"/>).</summary>
internal static class HardeningKeyReaders
{
    public static readonly IReadOnlyList<string> SynFloodModes = ["short_synrecv", "stateless", "both"];

    /// <summary>
    /// Read after <c>api_tls_cert</c>: a key needs its certificate. A certificate alone is a PEM file holding the key too.
    /// </summary>
    public static DirectorSettings ApiTlsKey(TableReader r, DirectorSettings d)
    {
        d = d with { ApiTlsKey = r.String("api_tls_key") ?? d.ApiTlsKey };
        if (d.ApiTlsKey.Length > 0 && d.ApiTlsCert.Length == 0)
            r.ErrorAt("api_tls_key", "api_tls_key needs api_tls_cert (the certificate, PEM)");
        return d;
    }
}

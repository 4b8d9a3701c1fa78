using System.Security.Cryptography.X509Certificates;
using TunLB.Control.Configuration;

namespace TunLB.Director.Api;

/// <summary>The API's TLS certificate from <c>api_tls_cert</c> / <c>api_tls_key</c> (PEM), read before the director touches the host.</summary>
internal static class ApiTls
{
    /// <exception cref="InvalidOperationException">The files cannot be read or do not hold a certificate with its key.</exception>
    public static X509Certificate2? Load(DirectorSettings s)
    {
        if (s.ApiTlsCert.Length == 0) return null;
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(s.ApiTlsCert, s.ApiTlsKey.Length > 0 ? s.ApiTlsKey : null);
            // Re-import as PKCS#12: an ephemeral PEM key cannot be used by SslStream on every platform.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"api_tls_cert = \"{s.ApiTlsCert}\"" + (s.ApiTlsKey.Length > 0 ? $", api_tls_key = \"{s.ApiTlsKey}\"" : "") + $": {e.Message}", e);
        }
    }
}

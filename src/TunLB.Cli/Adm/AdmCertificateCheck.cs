using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TunLB.Cli.Adm;

/// <summary>A trust setting that cannot be used (a CA file that cannot be read or holds no certificate).</summary>
public sealed class AdmTrustException(string message) : Exception(message);

/// <summary>
/// The server certificate check of one <see cref="AdmClient"/> (<see cref="AdmTrust"/> says what is trusted). Keeps the
/// reason of the last refusal: the TLS stack only says "the remote certificate is invalid", the operator needs to know
/// whether the name, the issuer or the pin was wrong.
/// </summary>
internal sealed class AdmCertificateCheck
{
    private readonly AdmTrust _trust;
    private readonly X509Certificate2Collection? _roots;
    private readonly X509Certificate2? _pinned;
    private readonly string? _pinUnusable;

    public string? LastRefusal { get; private set; }

    /// <exception cref="AdmTrustException">The CA file cannot be read or holds no certificate.</exception>
    public AdmCertificateCheck(AdmTrust trust)
    {
        _trust = trust;
        if (trust.Insecure) return;
        if (trust.CaFile is { } ca) _roots = Read(ca, "--cacert");
        // The pin is automatic (not asked for): a file this user cannot read (a key beside it, mode 0600) only loses it.
        if (trust.PinnedCertFile is { } pin)
            try { _pinned = Read(pin, "api_tls_cert")[0]; }
            catch (AdmTrustException e) { _pinUnusable = e.Message; }
    }

    private static X509Certificate2Collection Read(string path, string what)
    {
        var c = new X509Certificate2Collection();
        try { c.ImportFromPemFile(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new AdmTrustException($"{what} {path}: cannot read it: {e.Message}");
        }
        if (c.Count == 0) throw new AdmTrustException($"{what} {path}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
        return c;
    }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_trust.Insecure) return true;
        if (certificate is null) return Refuse("the server sent no certificate");
        var cert = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (_pinned is not null && cert.RawData.AsSpan().SequenceEqual(_pinned.RawData)) return true;

        string? why = _roots is not null ? CheckAgainst(cert, chain, errors) : SystemReason(chain, errors);
        if (why is null) return true;
        if (_pinned is not null)
            why = $"it is not the certificate of api_tls_cert {_trust.PinnedCertFile}" + (_trust.PinnedFrom is { } f ? $" (from {f})" : "") +
                  $": the server's has SHA-256 {Fingerprint(cert)}, the file's {Fingerprint(_pinned)}; and {why}";
        if (_pinUnusable is not null) why += $"; no pinned certificate: {_pinUnusable}";
        return Refuse(why + $" (certificate: {Describe(cert)})");
    }

    private bool Refuse(string why)
    {
        LastRefusal = why;
        return false;
    }

    // --cacert: the chain must end at one of the file's certificates; the host name must match as with the system store.
    private string? CheckAgainst(X509Certificate2 cert, X509Chain? presented, SslPolicyErrors errors)
    {
        using var ch = new X509Chain();
        ch.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        ch.ChainPolicy.CustomTrustStore.AddRange(_roots!);
        ch.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
            foreach (var e in presented.ChainElements) ch.ChainPolicy.ExtraStore.Add(e.Certificate);
        var reasons = new List<string>();
        if (!ch.Build(cert)) reasons.Add($"not issued by a certificate in --cacert {_trust.CaFile}: {Statuses(ch)}");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) reasons.Add(NameMismatch);
        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    private static string? SystemReason(X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None) return null;
        var reasons = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) reasons.Add("the server sent no certificate");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
            reasons.Add("not trusted by the system's certificate store: " + (chain is null ? "no chain" : Statuses(chain)) +
                        " (give its CA with --cacert FILE or $TUNLB_CACERT)");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) reasons.Add(NameMismatch);
        return string.Join("; ", reasons);
    }

    private const string NameMismatch = "it is not issued for the host name of the URL";

    private static string Statuses(X509Chain ch)
    {
        var s = ch.ChainStatus.Where(x => x.Status != X509ChainStatusFlags.NoError)
            .Select(x => x.StatusInformation.Trim().TrimEnd('.')).Where(x => x.Length > 0).Distinct().ToList();
        return s.Count == 0 ? "chain not valid" : string.Join(", ", s);
    }

    /// <summary>"subject CN=x, names DNS:a IP:127.0.0.1, expires 2027-01-01": what the operator compares with the URL.</summary>
    internal static string Describe(X509Certificate2 c)
    {
        var names = new List<string>();
        foreach (var ext in c.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            names.AddRange(ext.EnumerateDnsNames().Select(n => "DNS:" + n));
            names.AddRange(ext.EnumerateIPAddresses().Select(a => "IP:" + a));
        }
        return $"subject {c.Subject}" + (names.Count > 0 ? $", names {string.Join(" ", names)}" : ", no subject alternative names") +
               $", expires {c.NotAfter.ToUniversalTime():yyyy-MM-dd}";
    }

    internal static string Fingerprint(X509Certificate2 c) => Convert.ToHexString(SHA256.HashData(c.RawData))[..16].ToLowerInvariant() + "…";
}

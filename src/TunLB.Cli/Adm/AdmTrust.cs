namespace TunLB.Cli.Adm;

/// <summary>
/// How <c>tunlb adm</c> checks the certificate of an https:// director API. By default the system's trust store and the
/// URL's host name (as curl). <see cref="CaFile"/> (--cacert, $TUNLB_CACERT) replaces the system store with the PEM
/// certificates of that file. <see cref="PinnedCertFile"/> is the director's own <c>api_tls_cert</c>, set when the
/// address came from that director's config file: its certificate is accepted as it is (name not checked).
/// <see cref="Insecure"/> (-k, --insecure) accepts any certificate.
/// </summary>
public sealed record AdmTrust(string? CaFile = null, string? PinnedCertFile = null, bool Insecure = false)
{
    public static AdmTrust Default { get; } = new();

    /// <summary>Where the pin came from, for messages ("/etc/tunlb/director.toml").</summary>
    public string? PinnedFrom { get; init; }
}

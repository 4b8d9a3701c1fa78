namespace TunLB.Cli.Import;

/// <summary>Settings keepalived inherits virtual_server → real_server → checker.</summary>
internal sealed class Inherited
{
    public double? DelayLoop, ConnectTimeout, DelayBeforeRetry;
    public long? Retry;
    public bool? Alpha, Inhibit;
    public string? VirtualHost;
    public Inherited Clone() => (Inherited)MemberwiseClone();
}

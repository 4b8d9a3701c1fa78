using TunLB.Core.Flows;

namespace TunLB.Health;

/// <summary>What a failed real server is made to do (keepalived inhibit_on_failure).</summary>
public enum FailureAction
{
    /// <summary>Not scheduled; its existing connections stop (as deleting it, IPVS expire_nodest_conn).</summary>
    Remove,
    /// <summary>Weight 0: no new connections, existing ones go on.</summary>
    Inhibit,
}

/// <summary>
/// Flap dampener (BGP route-flap-dampening style, as glb-director's and HAProxy's ideas of not trusting a
/// flapping server): every state change adds <see cref="Penalty"/>; the penalty halves every
/// <see cref="HalfLifeSeconds"/>; when it exceeds <see cref="Suppress"/> the server is kept down (up
/// transitions are suppressed, never down transitions) until the penalty decays below <see cref="Reuse"/>.
/// </summary>
public sealed record DampeningSpec(double Penalty = 1000, double Suppress = 2500, double Reuse = 800, double HalfLifeSeconds = 60)
{
    public static readonly DampeningSpec Default = new();
}

/// <summary>One health check, with every key resolved (service defaults, then per-real overrides).</summary>
public sealed record CheckSpec
{
    public static readonly IReadOnlyList<string> Types = ["none", "tcp", "http", "https", "udp", "dns", "misc", "agent"];

    /// <summary>tcp http https udp dns misc agent none.</summary>
    public string Type { get; init; } = "none";
    /// <summary>Port to check; 0 = the real server's port (the service port). Agent: default 9402.</summary>
    public int Port { get; init; }

    // http / https
    public string Path { get; init; } = "/";
    /// <summary>Accepted status codes, e.g. "200-399" or "200,204,300-302".</summary>
    public string ExpectStatus { get; init; } = "200-399";
    /// <summary>Substring the body must contain; empty = any body.</summary>
    public string ExpectBody { get; init; } = "";
    /// <summary>Host header (and SNI for https); empty = the VIP (tunnel) or real address (direct).</summary>
    public string Host { get; init; } = "";
    /// <summary>https: skip certificate verification.</summary>
    public bool TlsSkipVerify { get; init; }

    // udp
    /// <summary>UDP payload (with \n, \r, \t, \xHH escapes already decoded).</summary>
    public string Payload { get; init; } = "";
    /// <summary>udp: substring expected in the reply; empty = any reply.</summary>
    public string Expect { get; init; } = "";
    /// <summary>udp: false = silence within the timeout passes too, only an ICMP error fails (keepalived UDP_CHECK without require_reply).</summary>
    public bool RequireReply { get; init; } = true;

    // dns
    public string QueryName { get; init; } = ".";
    /// <summary>A, AAAA, NS, SOA, TXT, MX, ANY or a number.</summary>
    public string QueryType { get; init; } = "A";
    /// <summary>dns: false = any NOERROR response passes, with or without answers (keepalived DNS_CHECK).</summary>
    public bool RequireAnswer { get; init; } = true;

    // misc
    /// <summary>Run with /bin/sh -c; exit 0 = up.</summary>
    public string Command { get; init; } = "";
    /// <summary>keepalived misc_dynamic: exit 1 = down, 2..255 = up with weight exit-2.</summary>
    public bool Dynamic { get; init; }

    // timing and state
    public double IntervalSeconds { get; init; } = 2.0;
    public double TimeoutSeconds { get; init; } = 1.0;
    public int Rise { get; init; } = 2;
    public int Fall { get; init; } = 2;
    /// <summary>keepalived alpha: start down until <see cref="Rise"/> successes.</summary>
    public bool Alpha { get; init; }
    /// <summary>"tunnel" (VIP:port through the data path, pinned to the real) or "direct" (real address:port).</summary>
    public string Via { get; init; } = "tunnel";
    public FailureAction OnFailure { get; init; } = FailureAction.Remove;
    /// <summary>Null = no dampening.</summary>
    public DampeningSpec? Dampening { get; init; }

    public bool Enabled => Type != "none";
    public bool ViaTunnel => Via == "tunnel" && Type != "misc";
    public TimeSpan Interval => TimeSpan.FromSeconds(IntervalSeconds);
    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    /// <summary>Port the check connects to, given the real server's port.</summary>
    public int PortFor(int realPort) => Port != 0 ? Port : Type == "agent" ? 9402 : realPort;

    /// <summary>One-line description for logs: "http GET /healthz :80 via tunnel, every 2 s, rise 2 fall 2".</summary>
    public string Describe(int realPort) => Type switch
    {
        "none" => "none",
        "misc" => $"misc \"{Command}\"{(Dynamic ? " (dynamic)" : "")}, every {IntervalSeconds:0.###} s, rise {Rise} fall {Fall}",
        _ => $"{Type}{(Type is "http" or "https" ? " GET " + Path : Type == "dns" ? $" {QueryType} {QueryName}" : "")} :{PortFor(realPort)} via {Via}, " +
             $"every {IntervalSeconds:0.###} s, timeout {TimeoutSeconds:0.###} s, rise {Rise} fall {Fall}",
    };
}

/// <summary>A sorry server: takes new connections when the service has no live real server (keepalived sorry_server).</summary>
public sealed record SorrySpec(IpAddress Address, ushort Port, int Weight = 1);

/// <summary>Health settings of one service: default check, per-real overrides, sorry server, quorum.</summary>
public sealed record ServiceHealthSpec
{
    public static readonly ServiceHealthSpec None = new();

    /// <summary>The service's [service.check] (type "none" when absent).</summary>
    public CheckSpec Check { get; init; } = new();
    /// <summary>Resolved checks of reals that have a [service.real.check], keyed by the real's address.</summary>
    public IReadOnlyDictionary<IpAddress, CheckSpec> PerReal { get; init; } = new Dictionary<IpAddress, CheckSpec>();
    public SorrySpec? Sorry { get; init; }
    /// <summary>keepalived quorum: minimum sum of weights of live reals for the service to be up.</summary>
    public int Quorum { get; init; } = 1;
    public int Hysteresis { get; init; }
    /// <summary>Commands run (sh -c) when the service gains / loses quorum; empty = none.</summary>
    public string QuorumUp { get; init; } = "";
    public string QuorumDown { get; init; } = "";

    public CheckSpec CheckFor(IpAddress real) => PerReal.TryGetValue(real, out var c) ? c : Check;

    /// <summary>Whether quorum is tracked at all: some check, a sorry server or a hook is configured.</summary>
    public bool TracksQuorum => Check.Enabled || PerReal.Values.Any(c => c.Enabled) || Sorry is not null || QuorumUp.Length > 0 || QuorumDown.Length > 0;
}

using System.Net;
using System.Net.Sockets;

namespace TunLB.Cli.Adm;

/// <summary>What one <c>tunlb adm</c> command line asks for (ipvsadm's commands).</summary>
public enum AdmCommandKind
{
    List,           // -L / -l / --list (and no arguments at all)
    AddService,     // -A
    EditService,    // -E
    DeleteService,  // -D
    Clear,          // -C
    AddServer,      // -a
    EditServer,     // -e
    DeleteServer,   // -d
    Zero,           // -Z
    SetTimeouts,    // --set tcp tcpfin udp
    Save,           // -S
    Restore,        // -R
    Help,           // -h
    Version,        // -v
    DrainDirector,  // --drain-director (TunLB)
    UndrainDirector, // --undrain-director (TunLB)
}

/// <summary>Listing variants, as ipvsadm's FMT_* flags.</summary>
[Flags]
public enum AdmListFormat
{
    None = 0,
    Numeric = 1,
    Stats = 2,
    Rate = 4,
    Thresholds = 8,
    PersistentConn = 16,
    NoSort = 32,
    Exact = 64,
    TunInfo = 128,
}

/// <summary>A virtual service as given with -t/-u: protocol ("tcp"/"udp"), address, port (0 = all ports).</summary>
public sealed record AdmService(string Protocol, IPAddress Address, int Port)
{
    public bool IsV6 => Address.AddressFamily == AddressFamily.InterNetworkV6;
    /// <summary>The address as the API wants it in paths and bodies (IPv6 without brackets).</summary>
    public string Vip => Address.ToString();
}

/// <summary>
/// One parsed command line. Properties hold what was given on the command line (null = not given);
/// <see cref="AdmSpecs"/> applies ipvsadm's defaults when turning it into API bodies.
/// </summary>
public sealed record AdmRequest(AdmCommandKind Command)
{
    public AdmService? Service { get; init; }

    // -A / -E
    public string? Scheduler { get; init; }
    public IReadOnlyList<string>? SchedFlags { get; init; }
    /// <summary>-p [timeout]: the timeout (300 when -p has no value); null = not persistent.</summary>
    public int? Persistence { get; init; }
    /// <summary>-M: dotted quad (IPv4 service) or prefix length (IPv6 service), normalised.</summary>
    public string? Netmask { get; init; }

    // -a / -e / -d
    public IPAddress? RealAddress { get; init; }
    /// <summary>The real server's port: as given after -r, else the service port.</summary>
    public int? RealPort { get; init; }
    public int? Weight { get; init; }
    public int? UpperThreshold { get; init; }
    public int? LowerThreshold { get; init; }
    public string? TunType { get; init; }
    public int? TunPort { get; init; }
    /// <summary>"nocsum", "csum" or "remcsum" (from --tun-nocsum/--tun-csum/--tun-remcsum).</summary>
    public string? TunFlags { get; init; }

    // -L
    public AdmListFormat Format { get; init; }
    public bool Connections { get; init; }
    public bool ShowTimeouts { get; init; }
    public bool Daemon { get; init; }

    // --set
    public int TimeoutTcp { get; init; }
    public int TimeoutTcpFin { get; init; }
    public int TimeoutUdp { get; init; }

    // TunLB additions
    /// <summary>--drain (true) / --undrain (false) with -e; --drain with -d = drain, then delete when idle.</summary>
    public bool? Drain { get; init; }
    /// <summary>--check 'http path=/health interval=2' with -A/-E (service) or -a/-e (real): the check's keys as words.</summary>
    public string? Check { get; init; }
    /// <summary>--no-check: remove the service's check (-E) or the real's own check (-e).</summary>
    public bool NoCheck { get; init; }
    public string? Api { get; init; }
    public string? Token { get; init; }
    /// <summary>--cacert FILE: PEM CA certificates an https:// API's certificate must chain to (instead of the system's).</summary>
    public string? CaCert { get; init; }
    /// <summary>-k, --insecure: no check of an https:// API's certificate.</summary>
    public bool Insecure { get; init; }
}

/// <summary>A command line that can't be carried out; <see cref="ExitCode"/> is 2 (usage) like ipvsadm's fail(2, ...).</summary>
public sealed record AdmParseError(string Message, bool TryHelp = false, int ExitCode = 2);

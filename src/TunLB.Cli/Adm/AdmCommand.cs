using System.Net;
using System.Net.Sockets;
using TunLB.Control.Api;

namespace TunLB.Cli.Adm;

/// <summary>Where <c>tunlb adm</c> finds its defaults; tests substitute their own.</summary>
public sealed record AdmEnvironment(
    Func<string, string?> GetEnv,
    string ConfigPath,
    Func<string, IPAddress?>? ResolveHost,
    Func<string, string, int?>? ResolvePort)
{
    public const string DefaultConfigPath = "/etc/tunlb/director.toml";
    public const string DefaultApi = "127.0.0.1:9400";

    public static AdmEnvironment System { get; } = new(
        Environment.GetEnvironmentVariable, DefaultConfigPath, ResolveHostSystem, ResolvePortSystem);

    /// <summary>ipvsadm resolves host names to IPv4 addresses (gethostbyname).</summary>
    private static IPAddress? ResolveHostSystem(string name)
    {
        try
        {
            return Dns.GetHostAddresses(name).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Service names from /etc/services (ipvsadm uses getservbyname).</summary>
    private static int? ResolvePortSystem(string name, string protocol)
    {
        try
        {
            foreach (var raw in File.ReadLines("/etc/services"))
            {
                var line = raw.Split('#')[0];
                var f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 2) continue;
                var pp = f[1].Split('/');
                if (pp.Length != 2 || pp[1] != protocol || !int.TryParse(pp[0], out var port)) continue;
                if (f[0] == name || f.Skip(2).Contains(name)) return port;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}

/// <summary>
/// <c>tunlb adm</c>: ipvsadm's command line and output, carried out through the director's
/// management API. Exit codes: 0 ok, 2 usage error, 1 API error or unreachable director.
/// </summary>
public static class AdmCommand
{
    public const string Program = "tunlb adm";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin) =>
        Run(args, stdout, stderr, stdin, AdmEnvironment.System);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin, AdmEnvironment env)
    {
        // --continue belongs to -R only (AdmRestore); it is taken out before ipvsadm's own syntax is parsed.
        bool keepGoing = args.Contains(AdmRestore.ContinueOption);
        if (keepGoing) args = args.Where(a => a != AdmRestore.ContinueOption).ToArray();
        // TunLB: --cluster (or several --api) lists a fleet of directors; handled apart from ipvsadm's parser.
        var cluster = AdmCluster.Extract(args, out var clusterError);
        if (clusterError is not null) { stderr.Write($"{Program}: {clusterError}\n"); return 2; }
        if (cluster is not null) return AdmCluster.Run(cluster, stdout, stderr, env);
        var (request, error) = AdmParser.Parse(args, env.ResolveHost, env.ResolvePort);
        if (error is not null)
        {
            if (error.Message.Length > 0) stderr.Write(error.Message + "\n");
            if (error.TryHelp) stderr.Write(TryHelp);
            return error.ExitCode;
        }
        var r = request!;
        switch (r.Command)
        {
            case AdmCommandKind.Help:
                stdout.Write(Usage);
                return 0;
            case AdmCommandKind.Version:
                stdout.Write(VersionText);
                return 0;
        }

        var (api, token, trust) = AdmEndpoint.Resolve(r, env);
        AdmClient client;
        try
        {
            client = new AdmClient(api, token, trust: trust);
        }
        catch (UriFormatException)
        {
            stderr.Write($"{Program}: invalid director API address `{api}' (expected HOST:PORT, [v6]:PORT or an http(s):// URL)\n");
            return 2;
        }
        catch (AdmTrustException e)
        {
            stderr.Write($"{Program}: {e.Message}\n");
            return 2;
        }
        if (trust.Insecure && client.BaseUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            stderr.Write($"{Program}: warning: --insecure: the certificate of {client.BaseUrl} is not checked; anyone on the path can read the token and change the director\n");
        using var _ = client;

        if (r.Command == AdmCommandKind.Restore)
            return AdmRestore.Run(client, stdin, stdout, stderr, env, keepGoing);
        if (keepGoing)
        {
            stderr.Write($"{Program}: {AdmRestore.ContinueOption} goes with -R only\n");
            return 2;
        }

        try
        {
            stdout.Write(Execute(client, r));
            return 0;
        }
        catch (AdmApiException e)
        {
            stderr.Write(e.Message + "\n");
            return 1;
        }
        catch (AdmUnreachableException e)
        {
            stderr.Write($"{Program}: {Unreachable(e)}\n");
            return 1;
        }
    }

    private static string Unreachable(AdmUnreachableException e) =>
        $"cannot reach the director API at {e.BaseUrl}: {e.Message}";

    /// <summary>Splits a restore line into arguments (see <see cref="AdmRestore.SplitLine"/>); a line running something else gives none.</summary>
    public static List<string> SplitLine(string line) => AdmRestore.SplitLine(line).Args;

    /// <summary>Carries out one command; returns what it prints on stdout.</summary>
    public static string Execute(AdmClient client, AdmRequest r)
    {
        switch (r.Command)
        {
            case AdmCommandKind.List:
                if (r.Connections) return AdmFormatter.Connections(client.GetConnections(), r.Format);
                if (r.ShowTimeouts) return AdmFormatter.Timeouts(client.GetTimeouts());
                if (r.Daemon) return ""; // no sync daemon runs, so ipvsadm prints nothing
                if (r.Service is { } one) return AdmFormatter.ListOne(client.GetService(one), r.Format);
                var info = client.GetInfo();
                return AdmFormatter.ListAll(info.ConnectionTableSize, client.GetServices(), r.Format);
            case AdmCommandKind.Save:
                return AdmSave.Format(client.GetServices(), r.Format);
            case AdmCommandKind.AddService:
                client.AddService(AdmSpecs.Service(r, create: true));
                AdmCheck.Apply(client, r);
                return "";
            case AdmCommandKind.EditService:
                if (!AdmCheck.Only(r)) client.EditService(r.Service!, AdmSpecs.Service(r, create: false));
                AdmCheck.Apply(client, r);
                return "";
            case AdmCommandKind.DeleteService:
                client.DeleteService(r.Service!);
                return "";
            case AdmCommandKind.Clear:
                client.Clear();
                return "";
            case AdmCommandKind.AddServer:
                client.AddReal(r.Service!, AdmSpecs.Real(r, create: true));
                AdmCheck.Apply(client, r);
                return "";
            case AdmCommandKind.EditServer:
                if (!AdmCheck.Only(r)) client.EditReal(r.Service!, r.RealAddress!, r.RealPort!.Value, AdmSpecs.Real(r, create: false));
                if (r.Drain == true) client.Drain(r.Service!, r.RealAddress!, r.RealPort!.Value, removeWhenIdle: false);
                if (r.Drain == false) client.Undrain(r.Service!, r.RealAddress!, r.RealPort!.Value);
                AdmCheck.Apply(client, r);
                return "";
            case AdmCommandKind.DeleteServer:
                if (r.Drain == true) client.Drain(r.Service!, r.RealAddress!, r.RealPort!.Value, removeWhenIdle: true);
                else client.DeleteReal(r.Service!, r.RealAddress!, r.RealPort!.Value);
                return "";
            case AdmCommandKind.Zero:
                client.Zero(AdmSpecs.Zero(r));
                return "";
            case AdmCommandKind.SetTimeouts:
                client.SetTimeouts(AdmSpecs.Timeouts(r));
                return "";
            case AdmCommandKind.DrainDirector:
            case AdmCommandKind.UndrainDirector:
                client.DrainDirector(r.Command == AdmCommandKind.DrainDirector);
                var st = client.GetDirector();
                return st.Drained
                    ? $"director drained: every VIP leaves table {st.AnnounceTable}; forwarding goes on (undo: --undrain-director)\n"
                    : $"director undrained: the VIPs it can serve go back into table {st.AnnounceTable}\n";
            default:
                throw new InvalidOperationException($"not an API command: {r.Command}");
        }
    }

    /// <summary>The API address and token as <see cref="AdmEndpoint.Resolve"/> finds them.</summary>
    public static (string Api, string? Token) ResolveEndpoint(AdmRequest r, AdmEnvironment env)
    {
        var e = AdmEndpoint.Resolve(r, env);
        return (e.Api, e.Token);
    }

    /// <summary>Reads just [director] api and api_token from the director's config file, if it is there.</summary>
    internal static (string? Api, string? Token) ReadConfig(string path)
    {
        var (api, token, _) = AdmEndpoint.ReadConfig(path);
        return (api, token);
    }

    public static readonly string TryHelp = $"Try `{Program} -h' or '{Program} --help' for more information.\n";

    public static readonly string VersionText =
        $"{Program}: ipvsadm v1.31 command line for TunLB (management API, IPVS {AdmFormatter.IpvsVersion} output formats)\n";

    public static readonly string Usage =
        VersionText +
        "Usage:\n" +
        $"  {Program} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [-b sched-flags]\n" +
        $"  {Program} -D virtual-service\n" +
        $"  {Program} -C\n" +
        $"  {Program} -R\n" +
        $"  {Program} -S [-n]\n" +
        $"  {Program} -a|e virtual-service -r server-address [options]\n" +
        $"  {Program} -d virtual-service -r server-address\n" +
        $"  {Program} -L|l [virtual-service] [options]\n" +
        $"  {Program} -Z [virtual-service]\n" +
        $"  {Program} --set tcp tcpfin udp\n" +
        $"  {Program} -h\n\n" +
        "Commands:\n" +
        "Either long or short options are allowed.\n" +
        "  --add-service     -A        add virtual service with options\n" +
        "  --edit-service    -E        edit virtual service with options\n" +
        "  --delete-service  -D        delete virtual service\n" +
        "  --clear           -C        clear the whole table\n" +
        "  --restore         -R        restore rules from stdin (all or nothing; --continue: line by line)\n" +
        "  --save            -S        save rules to stdout\n" +
        "  --add-server      -a        add real server with options\n" +
        "  --edit-server     -e        edit real server with options\n" +
        "  --delete-server   -d        delete real server\n" +
        "  --list            -L|-l     list the table\n" +
        "  --zero            -Z        zero counters in a service or all services\n" +
        "  --set tcp tcpfin udp        set connection timeout values\n" +
        "  --help            -h        display this help message\n\n" +
        "virtual-service:\n" +
        "  --tcp-service|-t  service-address   service-address is host[:port] or [v6]:port\n" +
        "  --udp-service|-u  service-address   service-address is host[:port] or [v6]:port\n\n" +
        "Options:\n" +
        "  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|sh|dh|mh|sed|nq (no lblc|lblcr|fo|ovf|twos),\n" +
        "                                      the default scheduler is wlc.\n" +
        "  --persistent   -p [timeout]         persistent service (default timeout 300)\n" +
        "  --netmask      -M netmask           persistent granularity mask\n" +
        "  --real-server  -r server-address    server-address is host (and port)\n" +
        "  --ipip         -i                   ipip encapsulation (tunneling), the only method\n" +
        "  --tun-type      type                one of ipip|gue, the default tunnel type is ipip.\n" +
        "  --tun-port      port                tunnel destination port\n" +
        "  --tun-nocsum                        tunnel encapsulation without checksum\n" +
        "  --tun-csum                          tunnel encapsulation with checksum\n" +
        "  --tun-remcsum                       tunnel encapsulation with remote checksum\n" +
        "  --weight       -w weight            capacity of real server\n" +
        "  --u-threshold  -x uthreshold        upper threshold of connections\n" +
        "  --l-threshold  -y lthreshold        lower threshold of connections\n" +
        "  --connection   -c                   output of current IPVS connections\n" +
        "  --timeout                           output of timeout (tcp tcpfin udp)\n" +
        "  --stats                             output of statistics information\n" +
        "  --rate                              output of rate information\n" +
        "  --exact                             expand numbers (display exact values)\n" +
        "  --thresholds                        output of thresholds information\n" +
        "  --persistent-conn                   output of persistent connection info\n" +
        "  --tun-info                          output of tunnel information\n" +
        "  --nosort                            disable sorting output of service/server entries\n" +
        "  --sort                              does nothing, for backwards compatibility\n" +
        "  --numeric      -n                   numeric output of addresses and ports\n" +
        "  --sched-flags  -b flags             scheduler flags (comma-separated)\n\n" +
        "TunLB options:\n" +
        "  --api HOST:PORT                     director API (default: $TUNLB_API, else api in\n" +
        "                                      /etc/tunlb/director.toml, else 127.0.0.1:9400)\n" +
        "  --token TOKEN                       API bearer token (default: $TUNLB_API_TOKEN, else\n" +
        "                                      api_token in /etc/tunlb/director.toml)\n" +
        "  --api https://HOST:PORT             a TLS API: its certificate is checked against the system's\n" +
        "                                      store and the host name (an address read from director.toml\n" +
        "                                      with api_tls_cert is https:// and that certificate is trusted)\n" +
        "  --cacert FILE                       PEM CA certificate(s) to check it with instead ($TUNLB_CACERT)\n" +
        "  --insecure     -k                   do not check the API's certificate (warns on stderr)\n" +
        "  --cluster URL,URL,... | FILE        with -L: one table over several directors (a column each)\n" +
        "                                      and where they disagree; FILE: [cluster] directors = [...]\n" +
        "                                      (no value: /etc/tunlb/adm.toml); --api twice does the same\n" +
        "  --drain                             with -e: weight 0 until the real has no connections;\n" +
        "                                      with -d: drain, then delete it when idle\n" +
        "  --undrain                           with -e: end a drain (the configured weight comes back)\n" +
        "  --drain-director                    withdraw every VIP of this director (announce = true);\n" +
        "                                      it keeps forwarding while routers move traffic away\n" +
        "  --undrain-director                  announce again the VIPs it can serve\n" +
        "  --check 'TYPE KEY=VALUE ...'        with -A/-E: the service's health check; with -a/-e: the real's\n" +
        "                                      own check (keys of [service.check], e.g. 'http path=/health\n" +
        "                                      interval=2 fall=3'; see docs/health-checks.md)\n" +
        "  --no-check                          with -E: remove the service's check; with -e: the real's own\n";
}

using System.Text.Json;
using System.Text.Json.Serialization;
using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Director.Api;
using TunLB.Director.Management;
using TunLB.Tests.Shared;

namespace TunLB.Fuzz.Targets;

/// <summary>
/// The management API behind HTTP: each record is one request, its payload the JSON body, read as
/// <see cref="ApiServer"/> reads it (strict: unknown members are errors) and handed to the <see cref="DirectorApi"/>
/// operation the control byte picks (bits 0-3), on the service and real server that bits 4-6 pick; with bit 7 the
/// body's first line is "proto/vip/port/address/rport" instead. Documented outcomes: <see cref="JsonException"/>
/// (a 400 for a bad body) and <see cref="ApiException"/> (400/404/409/503). After the requests, the running state
/// rendered as config.toml (GET /api/v1/config.toml) must load again: what the API accepted must be a valid config.
/// A new <see cref="DirectorState"/> per input keeps inputs independent.
/// </summary>
public sealed class ApiBodyTarget : IFuzzTarget
{
    // The director tests' two services, the second web real server over GUE, and an IPv6 service with persistence.
    private const string Config = $"""
        [director]
        api = "127.0.0.1:9400"
        conn_max = 256

        {DirectorConfigs.WebService}
        encap = "gue"

        {DirectorConfigs.DnsService}

        [[service]]
        vip = "2001:db8:100::10"
        port = 80
        protocol = "tcp"
        scheduler = "wlc"
        persistence = 300
        persistence_netmask = "ffff:ffff:ffff:ffff::"

        [[service.real]]
        address = "2001:db8:d::11"
        """;

    private static readonly string[][] s_paths =
    [
        ["tcp", "203.0.113.10", "80", "192.0.2.11", "80"],
        ["udp", "203.0.113.10", "53", "192.0.2.21", "53"],
        ["tcp", "2001:db8:100::10", "80", "2001:db8:d::11", "80"],
        ["tcp", "203.0.113.10", "80", "192.0.2.99", "80"],
        ["sctp", "203.0.113.10", "80", "192.0.2.11", "80"],
        ["tcp", "not-an-ip", "99999", "", "-1"],
        ["TCP", "203.0.113.10", "0080", "192.0.2.12", "080"],
        ["tcp", "203.0.113.99", "80", "192.0.2.11", "80"],
    ];

    private static readonly JsonSerializerOptions s_read = new(ApiJson.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private static readonly DirectorConfig s_config = ConfigLoader.ParseDirector(Config, "director.toml");
    private static readonly IpAddress s_source = IpAddress.Parse("192.0.2.1"), s_source6 = IpAddress.Parse("2001:db8:d::1");

    public string Name => "api";

    public void Run(ReadOnlySpan<byte> input)
    {
        var state = new DirectorState(s_config, new DirectorStateOptions
        {
            OuterSource = a => a.IsV4 ? s_source : s_source6,
            Clock = () => 1000,
            HashSeed = 42,
        });
        state.RunHook = (_, _) => { };
        var api = new DirectorApi(state);
        var records = new Records(input);
        while (records.MoveNext())
        {
            try { Request(api, records.Control, records.Current); }
            catch (JsonException) { }
            catch (ApiException e) when (e.Status is 400 or 404 or 409 or 503) { }
        }
        string rendered = ConfigRenderer.Render(state);
        try { ConfigLoader.ParseDirector(rendered, "rendered.toml"); }
        catch (ConfigException e) { throw new InvalidOperationException($"rendered config does not load:\n{rendered}", e); }
    }

    private static void Request(DirectorApi api, byte ctl, ReadOnlySpan<byte> body)
    {
        string[] p = s_paths[(ctl >> 4) & 7];
        if ((ctl & 0x80) != 0)
        {
            int nl = body.IndexOf((byte)'\n');
            var first = nl < 0 ? body : body.Slice(0, nl);
            body = nl < 0 ? default : body.Slice(nl + 1);
            var parts = Text.Utf8(first).Split('/');
            p = [.. parts, .. s_paths[0].Skip(parts.Length)];
        }
        switch (ctl & 15)
        {
            case 0:
                if (Body<ServiceSpec>(body) is { } addService) api.AddService(addService);
                break;
            case 1:
                api.EditService(p[0], p[1], p[2], Body<ServiceSpec>(body) ?? new ServiceSpec());
                break;
            case 2:
                if (Body<RealSpec>(body) is { } addReal) api.AddReal(p[0], p[1], p[2], addReal);
                break;
            case 3:
                api.EditReal(p[0], p[1], p[2], p[3], p[4], Body<RealSpec>(body) ?? new RealSpec());
                break;
            case 4:
                api.Drain(p[0], p[1], p[2], p[3], p[4], Body<DrainSpec>(body));
                break;
            case 5:
                api.Undrain(p[0], p[1], p[2], p[3], p[4]);
                break;
            case 6:
                api.Zero(Body<ZeroSpec>(body));
                break;
            case 7:
                if (Body<TimeoutsDto>(body) is { } timeouts) api.SetTimeouts(timeouts);
                break;
            case 8:
                api.DeleteReal(p[0], p[1], p[2], p[3], p[4]);
                break;
            case 9:
                api.DeleteService(p[0], p[1], p[2]);
                break;
            case 10:
                api.GetService(p[0], p[1], p[2]);
                break;
            default:
                api.ListServices();
                api.Stats();
                api.HealthReport();
                api.ListConnections(100);
                api.Info();
                break;
        }
    }

    /// <summary>As ApiServer reads a body: empty (or blank) is null, else strict JSON.</summary>
    private static T? Body<T>(ReadOnlySpan<byte> body) where T : class
    {
        bool blank = true;
        foreach (byte b in body)
            if (b is not ((byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')) { blank = false; break; }
        return blank ? null : JsonSerializer.Deserialize<T>(body, s_read);
    }
}

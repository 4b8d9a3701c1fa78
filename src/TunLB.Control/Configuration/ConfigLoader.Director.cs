using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

// director.toml: the file's tables and the service list; [director] is read by DirectorKeys, a service by ConfigLoader.Service.cs.
public static partial class ConfigLoader
{
    private static readonly string[] DirectorFileTables = ["director", "service", "sync"];

    private static DirectorConfig BuildDirector(TTable root, ErrorSink sink)
    {
        var top = new TableReader(sink, root, "", DirectorFileTables, name =>
            DirectorKeys.Names.Contains(name) ? $"did you mean \"director.{name}\"? (put it after the [director] header)"
            : name == "realserver" ? "[realserver] belongs in a real-server config, not a director config"
            : null);

        var settings = DirectorSettings.Defaults;
        if (top.Get("director") is { } de)
        {
            if (de.Value is TTable dt) settings = DirectorKeys.Read(new TableReader(sink, dt, "director", DirectorKeys.Names));
            else top.Error(de, $"expected a table ([director] header), got {de.Value.Describe()}");
        }

        var sync = SyncSettings.Defaults;
        if (top.Get("sync") is { } se)
        {
            if (se.Value is TTable st) sync = DirectorKeys.ReadSync(new TableReader(sink, st, "sync", DirectorKeys.SyncNames));
            else top.Error(se, $"expected a table ([sync] header), got {se.Value.Describe()}");
        }

        var tables = top.TableList("service");
        var services = new List<ServiceConfig>(tables.Count);
        var seen = new Dictionary<(IpAddress, ushort, byte), (int Index, ServiceConfig Service)>();
        for (int i = 0; i < tables.Count; i++)
        {
            var r = new TableReader(sink, tables[i], $"service[{i}]", ServiceKeys);
            var svc = ReadService(r);
            if (svc is null) continue;
            if (seen.TryGetValue((svc.Vip, svc.Port, svc.Protocol), out var first))
            {
                sink.Add(r.Table.Line, r.Table.Column, r.Path,
                    $"duplicate service {svc.ProtocolName} {FormatEndpoint(svc.Vip, svc.Port)}: " +
                    $"already defined at line {first.Service.Line} (service[{first.Index}])");
                continue;
            }
            seen.Add((svc.Vip, svc.Port, svc.Protocol), (i, svc));
            services.Add(svc);
        }
        return new DirectorConfig(settings, services, sink.File) { Sync = sync };
    }

    private static string FormatEndpoint(IpAddress a, int port) => a.IsV4 ? $"{a}:{port}" : $"[{a}]:{port}";
}

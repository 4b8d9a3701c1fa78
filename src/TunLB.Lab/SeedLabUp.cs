namespace TunLB.Lab;

/// <summary>`tunlb lab up --topology seed`: the seed lab left running (namespaces tlblab-*), removed by `tunlb lab down`.</summary>
public static class SeedLabUp
{
    public static int Up(TextWriter o)
    {
        Prerequisites.Ensure(o);
        if (!Sh.Exists("bird")) { o.WriteLine("the seed lab needs BIRD 2 (apt-get install bird2)"); return 1; }
        const string prefix = LabPersistent.Prefix;
        if (Netns.List().Any(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            o.WriteLine($"a lab is already up (namespaces {prefix}*); run `tunlb lab down` first");
            return 1;
        }
        var work = LabPersistent.StateDir;
        Directory.CreateDirectory(work);
        try
        {
            o.WriteLine($"building the seed lab (namespaces {prefix}*)");
            var lab = SeedLab.Build(prefix);
            var svc = new SeedServices(lab, LabLauncher.Detached(lab.Topology, work), LabServices.SelfCommand(), work);
            svc.StartAll(o);
            var all = SeedLab.Directors.Select(d => d.Address).ToList();
            long ms = SeedProbe.Until(lab.Topology, h => h.SequenceEqual(all), 60_000);
            if (ms < 0) throw new InvalidOperationException($"the router has no 3-way route to the VIP: {SeedProbe.RouterRoute(lab.Topology)}");
            o.WriteLine($"  the router's route to {SeedLab.Vip}: next hops {string.Join(", ", SeedProbe.Nexthops(lab.Topology))}");
        }
        catch (Exception e)
        {
            o.WriteLine($"lab up failed: {e.Message}");
            LabPersistent.Down(TextWriter.Null);
            return 1;
        }
        var dirs = SeedLab.Directors;
        o.WriteLine($"""
            seed lab is up: {dirs.Count} directors, {SeedLab.RealServers.Count} real servers in {SeedLab.Datacenters.Count} datacenters.
              configs and logs:  {work}/
              try:               ip netns exec {prefix}client curl http://{SeedLab.Vip}/
              router's route:    ip netns exec {prefix}rt ip route show {SeedLab.Vip}
              router's BGP:      birdc -s {work}/bird-rt.ctl show protocols
              fleet view:        ip netns exec {prefix}rt tunlb adm -L -n --cluster {string.Join(',', dirs.Select(d => d.ApiUrl))} --token {SeedLab.ApiToken}
              kill a director:   kill -9 $(pgrep -f 'director --config {work}/director-d1.toml')   (restart: see {work}/director-d1.log)
              remove it:         tunlb lab down
            """);
        return 0;
    }
}

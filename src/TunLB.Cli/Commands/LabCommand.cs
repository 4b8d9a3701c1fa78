using System.CommandLine;
using TunLB.Lab;

namespace TunLB.Cli.Commands;

internal static class LabCommand
{
    public static Command Create()
    {
        var lab = new Command("lab", "Network-namespace lab: a client, an internet router, a director and two datacenters (--topology seed: the seed's 3 directors, 12 real servers, 5 datacenters).");

        var demo = new Command("demo", "Build the lab, send HTTP through the VIP, show which real server answered and what crossed the director, then remove everything.");
        var n = new Option<int>("--requests", "-n") { Description = "Number of HTTP requests", DefaultValueFactory = _ => 12 };
        var topology = new Option<string>("--topology") { Description = "standard (1 director, 3 real servers) or seed (3 directors with BIRD, 12 real servers in 5 datacenters)", DefaultValueFactory = _ => "standard" };
        topology.AcceptOnlyFromAmong("standard", "seed");
        demo.Options.Add(n);
        demo.Options.Add(topology);
        demo.SetAction(pr => pr.GetValue(topology) == "seed" ? SeedDemo.Run(Console.Out) : LabDemo.Run(Console.Out, pr.GetValue(n)));
        lab.Subcommands.Add(demo);

        var up = new Command("up", "Build the lab and leave it running (namespaces tlblab-*); remove it with `tunlb lab down`.");
        up.Options.Add(topology);
        up.SetAction(pr => pr.GetValue(topology) == "seed" ? SeedLabUp.Up(Console.Out) : LabPersistent.Up(Console.Out));
        lab.Subcommands.Add(up);

        var down = new Command("down", "Remove the lab started by `tunlb lab up` (and any leftover lab namespaces).");
        down.SetAction(_ => LabPersistent.Down(Console.Out));
        lab.Subcommands.Add(down);
        return lab;
    }
}

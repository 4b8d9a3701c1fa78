using System.CommandLine;
using TunLB.Lab;

namespace TunLB.Cli.Commands;

internal static class LabCommand
{
    public static Command Create()
    {
        var lab = new Command("lab", "Network-namespace lab: a client, an internet router, a director and two datacenters.");

        var demo = new Command("demo", "Build the lab, send HTTP through the VIP, show which real server answered and what crossed the director, then remove everything.");
        var n = new Option<int>("--requests", "-n") { Description = "Number of HTTP requests", DefaultValueFactory = _ => 12 };
        demo.Options.Add(n);
        demo.SetAction(pr => LabDemo.Run(Console.Out, pr.GetValue(n)));
        lab.Subcommands.Add(demo);

        var up = new Command("up", "Build the lab and leave it running (namespaces tlblab-*); remove it with `tunlb lab down`.");
        up.SetAction(_ => LabPersistent.Up(Console.Out));
        lab.Subcommands.Add(up);

        var down = new Command("down", "Remove the lab started by `tunlb lab up` (and any leftover lab namespaces).");
        down.SetAction(_ => LabPersistent.Down(Console.Out));
        lab.Subcommands.Add(down);
        return lab;
    }
}

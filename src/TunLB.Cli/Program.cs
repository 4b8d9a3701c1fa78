using System.CommandLine;
using TunLB.Cli.Commands;

var root = new RootCommand("TunLB: an LVS-TUN (IP-in-IP) load balancer with a userspace data path.");
root.Subcommands.Add(DirectorCommand.Create());
root.Subcommands.Add(RealServerCommand.Create());
root.Subcommands.Add(LabCommand.Create());
return root.Parse(args).Invoke();

using System.CommandLine;
using TunLB.Cli.Commands;

// `tunlb adm ...` takes ipvsadm syntax, which System.CommandLine can't parse: hand it the raw arguments.
if (args.Length > 0 && args[0] == "adm") return TunLB.Control.Adm.AdmCommand.Run(args[1..], Console.Out, Console.Error, Console.In);

var root = new RootCommand("TunLB: an LVS-TUN (IP-in-IP) load balancer with a userspace data path.");
root.Subcommands.Add(DirectorCommand.Create());
root.Subcommands.Add(RealServerCommand.Create());
root.Subcommands.Add(LabCommand.Create());
return root.Parse(args).Invoke();

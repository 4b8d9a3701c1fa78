using System.CommandLine;
using TunLB.Cli.Commands;

// `tunlb adm ...` takes ipvsadm syntax, which System.CommandLine can't parse: hand it the raw arguments.
if (args.Length > 0 && args[0] == "adm") return TunLB.Cli.Adm.AdmCommand.Run(args[1..], Console.Out, Console.Error, Console.In);

var root = new RootCommand("TunLB: an LVS-TUN (IP-in-IP) load balancer with a userspace data path.");
root.Subcommands.Add(DirectorCommand.Create());
var realserver = RealServerCommand.Create();
foreach (var c in RealServerDrainCommands.Create()) realserver.Subcommands.Add(c);
root.Subcommands.Add(realserver);
root.Subcommands.Add(LabCommand.Create());
root.Subcommands.Add(EgressCommands.CreateCheck());
root.Subcommands.Add(EgressCommands.CreateListen());
root.Subcommands.Add(IspCommands.Create());
root.Subcommands.Add(ImportCommand.Create());
var parsed = root.Parse(args);
int rc = parsed.Invoke();
// Usage errors exit 2 (as ipvsadm does), so they never read as a verdict such as egress-check's BLOCKED (1).
return parsed.Errors.Count > 0 ? 2 : rc;

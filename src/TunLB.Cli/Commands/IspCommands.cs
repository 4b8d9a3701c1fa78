using System.CommandLine;
using TunLB.Control.Configuration;
using TunLB.Cli.Isp;

namespace TunLB.Cli.Commands;

/// <summary>`tunlb isp list` and `tunlb isp show NAME`: the provider list in data/isps.toml (docs/isps.md).</summary>
public static class IspCommands
{
    public static Command Create()
    {
        var file = new Option<string?>("--file") { Description = "Provider list to read (default: data/isps.toml shipped with TunLB; $TUNLB_ISPS)", Recursive = true };
        var isp = new Command("isp", "Providers and LVS-TUN: which let real servers send packets with the VIP as source.");
        isp.Options.Add(file);

        var list = new Command("list", "List every provider with its status.");
        list.SetAction(pr => Run(pr.GetValue(file), all =>
        {
            int w = Math.Max(4, all.Max(e => e.Name.Length));
            Console.WriteLine($"{"NAME".PadRight(w)}  {"STATUS",-19}  PLACE");
            foreach (var e in all) Console.WriteLine($"{e.Name.PadRight(w)}  {e.StatusText,-19}  {e.Place}");
            return 0;
        }));
        isp.Subcommands.Add(list);

        var name = new Argument<string>("name") { Description = "Provider name (case-insensitive, partial match)" };
        var show = new Command("show", "Show one provider's entry.");
        show.Arguments.Add(name);
        show.SetAction(pr => Run(pr.GetValue(file), all =>
        {
            var q = pr.GetValue(name)!;
            var found = IspCatalog.Find(all, q);
            if (found.Count == 0)
            {
                Console.Error.WriteLine($"tunlb isp show: no provider matches \"{q}\"; `tunlb isp list` shows them all");
                return 1;
            }
            if (found.Count > 1)
            {
                Console.Error.WriteLine($"tunlb isp show: \"{q}\" matches {found.Count} providers: {string.Join(", ", found.Select(e => e.Name))}");
                return 1;
            }
            var e = found[0];
            Console.WriteLine($"name:   {e.Name}\nstatus: {e.StatusText}\nplace:  {e.Place}\nnote:   {e.Note}");
            return 0;
        }));
        isp.Subcommands.Add(show);
        return isp;
    }

    private static int Run(string? file, Func<IReadOnlyList<IspEntry>, int> action)
    {
        var path = IspCatalog.Locate(file);
        if (path is null)
        {
            Console.Error.WriteLine("tunlb isp: cannot find data/isps.toml (use --file or $TUNLB_ISPS)");
            return 2;
        }
        try { return action(IspCatalog.Load(path)); }
        catch (ConfigException e) { Console.Error.WriteLine(e.Message); return 2; }
        catch (IOException e) { Console.Error.WriteLine($"tunlb isp: {path}: {e.Message}"); return 2; }
    }
}

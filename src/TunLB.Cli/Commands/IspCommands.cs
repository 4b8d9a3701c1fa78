using System.CommandLine;
using TunLB.Control.Configuration;
using TunLB.Cli.Isp;

namespace TunLB.Cli.Commands;

/// <summary>
/// `tunlb isp list` and `tunlb isp show NAME`: today's providers with their documentation (data/providers.toml) and the
/// historical operator reports (data/isps.toml). See docs/isps.md.
/// </summary>
public static class IspCommands
{
    public static Command Create()
    {
        var file = new Option<string?>("--file") { Description = "Historical report list to read (default: data/isps.toml shipped with TunLB; $TUNLB_ISPS)", Recursive = true };
        var providers = new Option<string?>("--providers") { Description = "Provider list to read (default: data/providers.toml shipped with TunLB; $TUNLB_PROVIDERS)", Recursive = true };
        var isp = new Command("isp", "Providers and LVS-TUN: what each provider documents about sending with the VIP as source, and what operators reported.");
        isp.Options.Add(file);
        isp.Options.Add(providers);

        var markdown = new Option<bool>("--markdown") { Description = "Print the providers table of docs/isps.md" };
        var list = new Command("list", "List every provider (documented ones, then the historical reports).");
        list.Options.Add(markdown);
        list.SetAction(pr => Run(pr.GetValue(file), pr.GetValue(providers), (hist, docs) =>
        {
            if (pr.GetValue(markdown)) { Console.Write(ProviderCatalog.Markdown(docs)); return 0; }
            int w = Math.Max(4, docs.Select(e => e.Name.Length).Concat(hist.Select(e => e.Name.Length)).Max());
            Console.WriteLine($"{"NAME".PadRight(w)}  {"IPv4",-17}  {"IPv6",-17}  SOURCES");
            foreach (var e in docs)
                Console.WriteLine($"{e.Name.PadRight(w)}  {ProviderCatalog.SupportName(e.Ipv4),-17}  {ProviderCatalog.SupportName(e.Ipv6),-17}  {(e.Sources.Count == 0 ? "none found" : e.Sources.Count.ToString())}");
            Console.WriteLine();
            Console.WriteLine($"{"HISTORICAL".PadRight(w)}  {"STATUS",-19}  PLACE");
            foreach (var e in hist) Console.WriteLine($"{e.Name.PadRight(w)}  {e.StatusText,-19}  {e.Place}");
            return 0;
        }));
        isp.Subcommands.Add(list);

        var name = new Argument<string>("name") { Description = "Provider name or alias (case-insensitive, partial match)" };
        var show = new Command("show", "Show one provider: the setting to change, the detail and the sources (or a historical report).");
        show.Arguments.Add(name);
        show.SetAction(pr => Run(pr.GetValue(file), pr.GetValue(providers), (hist, docs) =>
        {
            var q = pr.GetValue(name)!;
            var d = ProviderCatalog.Find(docs, q);
            var h = IspCatalog.Find(hist, q);
            // An exact name or alias wins over partial matches in the other list.
            if (d.Any(e => e.IsExactly(q))) h = [];
            else if (h.Any(e => e.Name.Equals(q, StringComparison.OrdinalIgnoreCase))) d = [];
            int count = d.Count + h.Count;
            if (count == 0)
            {
                Console.Error.WriteLine($"tunlb isp show: no provider matches \"{q}\"; `tunlb isp list` shows them all");
                return 1;
            }
            if (count > 1)
            {
                Console.Error.WriteLine($"tunlb isp show: \"{q}\" matches {count} providers: {string.Join(", ", d.Select(e => e.Name).Concat(h.Select(e => e.Name)))}");
                return 1;
            }
            if (d.Count == 1) { Console.Write(ProviderCatalog.Show(d[0])); return 0; }
            var e = h[0];
            Console.WriteLine($"name:     {e.Name}\nstatus:   {e.StatusText}\nplace:    {e.Place}\nnote:     {e.Note}");
            if (e.Era is not null) Console.WriteLine($"era:      {e.Era} (an operator's report from the seed list, not today's network)");
            if (e.Original is not null) Console.WriteLine($"original: {e.Original}");
            return 0;
        }));
        isp.Subcommands.Add(show);
        return isp;
    }

    private static int Run(string? file, string? providersFile, Func<IReadOnlyList<IspEntry>, IReadOnlyList<ProviderEntry>, int> action)
    {
        var path = IspCatalog.Locate(file);
        var ppath = ProviderCatalog.Locate(providersFile);
        if (path is null || ppath is null)
        {
            Console.Error.WriteLine($"tunlb isp: cannot find data/{(path is null ? IspCatalog.FileName : ProviderCatalog.FileName)} (use --file/--providers or $TUNLB_ISPS/$TUNLB_PROVIDERS)");
            return 2;
        }
        try { return action(IspCatalog.Load(path), ProviderCatalog.Load(ppath)); }
        catch (ConfigException e) { Console.Error.WriteLine(e.Message); return 2; }
        catch (IOException e) { Console.Error.WriteLine($"tunlb isp: {e.Message}"); return 2; }
    }
}

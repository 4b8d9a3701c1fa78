using TunLB.Cli.Isp;
using TunLB.Control.Configuration;

namespace TunLB.Cli.Tests.Isp;

public class ProviderCatalogTests
{
    private static string RepoFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, relative);
            if (File.Exists(p) && File.Exists(Path.Combine(d.FullName, "TunLB.sln"))) return p;
        }
        throw new FileNotFoundException(relative);
    }

    [Fact]
    public void Shipped_list_has_at_least_12_providers_and_every_statement_has_a_provider_source()
    {
        var all = ProviderCatalog.Load(RepoFile("data/providers.toml"));
        Assert.True(all.Count >= 12, $"{all.Count} providers");
        foreach (var e in all)
        {
            bool states = e.Ipv4 != ProviderSupport.Undocumented || e.Ipv6 != ProviderSupport.Undocumented;
            if (states) Assert.NotEmpty(e.Sources);
            Assert.All(e.Sources, u => Assert.StartsWith("https://", u));
            Assert.Contains("2026-12-03", e.Read);
            if (e.Sources.Count > 0) Assert.Contains("stored copy", e.Read);
            if (e.Setting == "undocumented") Assert.Equal((ProviderSupport.Undocumented, ProviderSupport.Undocumented), (e.Ipv4, e.Ipv6));
        }
        // The settings the issue names, each from the provider's own domain.
        var aws = Assert.Single(ProviderCatalog.Find(all, "aws"));
        Assert.Contains("source/destination check", aws.Setting);
        Assert.All(aws.Sources, u => Assert.StartsWith("https://docs.aws.amazon.com/", u));
        var gcp = Assert.Single(ProviderCatalog.Find(all, "gcp"));
        Assert.Contains("canIpForward", gcp.Setting);
        Assert.All(gcp.Sources, u => Assert.Contains(".google.com/", u));
        var azure = Assert.Single(ProviderCatalog.Find(all, "azure"));
        Assert.Contains("IP forwarding", azure.Setting);
        Assert.Contains("undocumented", azure.Detail); // "drops regardless" is not asserted without a source
        var os = Assert.Single(ProviderCatalog.Find(all, "openstack"));
        Assert.Equal(ProviderSupport.AllowedAddresses, os.Ipv4);
        Assert.Contains("allowed_address_pairs", os.Setting);
    }

    [Fact]
    public void Docs_table_matches_the_data_file()
    {
        var all = ProviderCatalog.Load(RepoFile("data/providers.toml"));
        var doc = File.ReadAllText(RepoFile("docs/isps.md")).Replace("\r", "");
        int b = doc.IndexOf("<!-- providers:begin", StringComparison.Ordinal);
        int e = doc.IndexOf("<!-- providers:end -->", StringComparison.Ordinal);
        Assert.True(b >= 0 && e > b, "docs/isps.md lacks the providers markers");
        var section = doc[(doc.IndexOf('\n', b) + 1)..e];
        Assert.Equal(ProviderCatalog.Markdown(all).Replace("\r", ""), section);
        foreach (var p in all) Assert.Contains(p.Name, section);
    }

    [Fact]
    public void Historical_entries_keep_the_original_wording()
    {
        var hist = IspCatalog.Load(RepoFile("data/isps.toml"));
        Assert.All(hist, h => Assert.Equal("historical", h.Era));
        Assert.All(hist, h => Assert.StartsWith(h.Name, h.Original));
        Assert.Contains("against their AUP", hist.Single(h => h.Name == "ThePlanet").Original);
        Assert.Contains("custom router setup", hist.Single(h => h.Name == "SoftLayer").Original);
        Assert.Throws<ConfigException>(() => IspCatalog.Parse("[[isp]]\nname=\"a\"\nstatus=\"allows\"\nplace=\"p\"\nnote=\"n\"\nera=\"recent\"\n", "f"));
    }

    [Fact]
    public void Every_error_is_reported_with_line_and_key()
    {
        var text = """
            [[provider]]
            name = "A"
            kind = "cloud"
            ipv4 = "setting"
            ipv6 = "maybe"
            setting = "x"
            detail = "y"
            sources = []
            read = "today"

            [[provider]]
            name = "B"
            aliases = ["a"]
            kind = "ship"
            ipv4 = "undocumented"
            ipv6 = "undocumented"
            setting = "undocumented"
            detail = "y"
            sources = ["http://example.com/"]
            read = "today"
            colour = "blue"
            """;
        var e = Assert.Throws<ConfigException>(() => ProviderCatalog.Parse(text, "providers.toml"));
        var msgs = e.Errors.Select(x => $"{x.Line}:{x.Key}:{x.Message}").ToList();
        Assert.Contains(msgs, m => m.StartsWith("5:provider.ipv6:") && m.Contains("\"maybe\""));
        Assert.Contains(msgs, m => m.StartsWith("8:provider.sources:") && m.Contains("needs at least one source"));
        Assert.Contains(msgs, m => m.StartsWith("12:provider.name:") && m.Contains("\"a\" is already used"));
        Assert.Contains(msgs, m => m.StartsWith("14:provider.kind:"));
        Assert.Contains(msgs, m => m.StartsWith("19:provider.sources:") && m.Contains("not an https URL"));
        Assert.Contains(msgs, m => m.StartsWith("21:provider.colour:"));
    }

    [Fact]
    public void Find_matches_names_and_aliases_exact_first()
    {
        var all = ProviderCatalog.Load(RepoFile("data/providers.toml"));
        Assert.Equal("Akamai Cloud (Linode)", Assert.Single(ProviderCatalog.Find(all, "LINODE")).Name);
        Assert.Equal("Google Cloud (Compute Engine)", Assert.Single(ProviderCatalog.Find(all, "Google Cloud")).Name);
        Assert.Empty(ProviderCatalog.Find(all, "ThePlanet"));
    }
}

using TunLB.Cli.Isp;
using TunLB.Control.Configuration;

namespace TunLB.Cli.Tests.Isp;

public class IspCatalogTests
{
    private static string RepoFile()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "data", "isps.toml");
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException("data/isps.toml");
    }

    [Fact]
    public void Shipped_list_is_valid_and_holds_every_provider_of_the_report()
    {
        var all = IspCatalog.Load(RepoFile());
        var byName = all.ToDictionary(e => e.Name);
        Assert.Equal(IspStatus.AllowsByException, byName["LayeredTech"].Status);
        Assert.Contains("Dallas", byName["LayeredTech"].Place);
        Assert.Contains("DataBank", byName["LayeredTech"].Note);
        Assert.Equal(IspStatus.AllowsByException, byName["Hivelocity"].Status);
        Assert.Equal(IspStatus.Allows, byName["1paket"].Status);
        Assert.Contains("Lambdanet", byName["1paket"].Place);
        Assert.Contains("Germany", byName["1paket"].Place);
        Assert.Equal(IspStatus.CustomRouterSetup, byName["SoftLayer"].Status);
        Assert.Equal(IspStatus.Allows, byName["WebNX"].Status);
        Assert.Contains("Los Angeles", byName["WebNX"].Place);
        Assert.Equal(IspStatus.Refuses, byName["ThePlanet"].Status);
        Assert.Contains("acceptable use policy", byName["ThePlanet"].Note);
        Assert.Equal(6, all.Count);
        Assert.All(all, e => Assert.False(string.IsNullOrWhiteSpace(e.Note)));
    }

    [Fact]
    public void Find_is_case_insensitive_and_partial_with_exact_match_first()
    {
        var all = IspCatalog.Load(RepoFile());
        Assert.Equal("LayeredTech", Assert.Single(IspCatalog.Find(all, "layered")).Name);
        Assert.Equal("WebNX", Assert.Single(IspCatalog.Find(all, "WEBNX")).Name);
        Assert.Equal(3, IspCatalog.Find(all, "h").Count); // LayeredTech, Hivelocity, ThePlanet
        Assert.Empty(IspCatalog.Find(all, "nothing"));
    }

    [Fact]
    public void Every_error_is_reported_with_line_and_key()
    {
        var text = """
            [[isp]]
            name = "A"
            status = "maybe"
            place = "x"
            note = "y"

            [[isp]]
            name = "a"
            status = "allows"
            place = "x"
            colour = "blue"

            [[isp]]
            name = ""
            status = "refuses"
            place = 3
            note = "z"
            """;
        var e = Assert.Throws<ConfigException>(() => IspCatalog.Parse(text, "isps.toml"));
        var msgs = e.Errors.Select(x => $"{x.Line}:{x.Key}:{x.Message}").ToList();
        Assert.Contains(msgs, m => m.StartsWith("3:isp.status:") && m.Contains("\"maybe\" is not one of allows, allows-by-exception, custom-router-setup, refuses"));
        Assert.Contains(msgs, m => m.StartsWith("8:isp.name:") && m.Contains("listed twice"));
        Assert.Contains(msgs, m => m.StartsWith("11:isp.colour:"));
        Assert.Contains(msgs, m => m.Contains("isp.note:missing"));
        Assert.Contains(msgs, m => m.StartsWith("14:isp.name:") && m.Contains("non-empty"));
        Assert.Contains(msgs, m => m.StartsWith("16:isp.place:") && m.Contains("integer"));
    }

    [Fact]
    public void A_formatted_entry_parses_back()
    {
        var text = IspCatalog.Format("Example \"Hosting\"", "allows-by-exception", "Lab\\1, Nowhere", "line one\nline two", "comment\nsecond");
        Assert.StartsWith("# comment\n# second\n[[isp]]\n", text.Replace("\r", ""));
        var e = Assert.Single(IspCatalog.Parse(text, "new.toml"));
        Assert.Equal(("Example \"Hosting\"", IspStatus.AllowsByException, "Lab\\1, Nowhere", "line one\nline two"), (e.Name, e.Status, e.Place, e.Note));
    }

    [Fact]
    public void Empty_or_foreign_files_are_refused()
    {
        Assert.Throws<ConfigException>(() => IspCatalog.Parse("", "f"));
        Assert.Throws<ConfigException>(() => IspCatalog.Parse("isp = 1", "f"));
        Assert.Throws<ConfigException>(() => IspCatalog.Parse("[[isp]\nname=", "f"));
    }
}

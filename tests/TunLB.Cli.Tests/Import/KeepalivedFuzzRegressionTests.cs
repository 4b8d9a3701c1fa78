using TunLB.Cli.Import;

namespace TunLB.Cli.Tests.Import;

/// <summary>Inputs the keepalived fuzz target (fuzz/TunLB.Fuzz) found to crash the importer, now parse errors.</summary>
public class KeepalivedFuzzRegressionTests
{
    [Fact]
    public void An_include_name_with_a_nul_character_is_a_parse_error_naming_the_line()
    {
        var e = Assert.Throws<KeepalivedParseException>(() =>
            KeepalivedImporter.ImportText("global_defs {\n}\ninclude conf.d/a\0b.conf\n", "/tmp/tunlb-fuzz-k.conf"));
        Assert.StartsWith("/tmp/tunlb-fuzz-k.conf:3: include conf.d/a\0b.conf: invalid path", e.Message);
    }
}

using TunLB.Cli.Import;

namespace TunLB.Cli.Tests.Import;

public class KeepalivedSyntaxTests
{
    private static List<KStatement> Parse(string text) => KeepalivedSyntax.ParseText(text, "/tmp/test.conf", []);

    [Fact]
    public void Comments_quotes_and_blocks_on_one_line()
    {
        var top = Parse("""
            ! a comment
            # another
            real_server 192.0.2.1 80 { weight 2   # trailing comment
                HTTP_GET { url { path "/a b" } connect_timeout 3 }
            }
            auth_pass se!cret#1 ! a password keeps its ! and #; the comment starts at a word
            """);
        Assert.Equal(2, top.Count);
        var rs = top[0];
        Assert.Equal("real_server", rs.Keyword);
        Assert.Equal(3, rs.Line);
        Assert.Equal(["192.0.2.1", "80"], rs.Args.Select(a => a.Text));
        Assert.Equal(["weight", "HTTP_GET"], rs.Block!.Select(s => s.Keyword));
        var http = rs.Block![1];
        Assert.Equal(4, http.Line);
        // "url { path ... }" and "connect_timeout 3" on the same line as HTTP_GET's "{".
        Assert.Equal(["url", "connect_timeout"], http.Block!.Select(s => s.Keyword));
        var path = http.Block![0].Block![0];
        Assert.Equal("/a b", path.Arg(0));
        Assert.True(path.Args[0].Quoted);
        Assert.Equal("se!cret#1", top[1].Arg(0));
        Assert.Single(top[1].Args);
    }

    [Fact]
    public void Brace_on_the_next_line_opens_the_previous_statement_block()
    {
        var top = Parse("virtual_server 10.0.0.1 80\n{\n  lb_algo rr\n}\nglobal_defs {}\n");
        Assert.Equal(2, top.Count);
        Assert.Equal("lb_algo", Assert.Single(top[0].Block!).Keyword);
        Assert.Empty(top[1].Block!);
    }

    [Theory]
    [InlineData("a {\n  b \"unterminated\n}\n", 2, "unterminated quoted string")]
    [InlineData("a {\n  b {\n  }\n", 1, "never closed")]
    [InlineData("x\n\n{ y }\n{ z }\n", 4, "'{' without a keyword")]
    [InlineData("include\n", 1, "include needs a file name")]
    public void Structure_errors_name_the_line(string text, int line, string message)
    {
        var e = Assert.Throws<KeepalivedParseException>(() => Parse(text));
        Assert.Equal(line, e.Line);
        Assert.Contains(message, e.Message);
        Assert.StartsWith($"/tmp/test.conf:{line}: ", e.Message);
    }

    [Fact]
    public void Extra_closing_brace_is_kept_as_a_warning_and_reading_goes_on()
    {
        // keepalived: "Extra '}' found", then it reads on at the top level.
        var stray = new List<KToken>();
        var top = KeepalivedSyntax.ParseText("a {\n}\n}\nb {\n}\n", "/tmp/test.conf", [], stray);
        Assert.Equal(["a", "b"], top.Select(s => s.Keyword));
        Assert.Equal(3, Assert.Single(stray).Line);
        var r = KeepalivedImporter.ImportText("virtual_server 192.0.2.1 80 {\n lvs_method TUN\n}\n}\n", "/tmp/test.conf");
        Assert.Equal(1, r.ServicesWritten);
        Assert.Contains(r.Issues, i => i.Line == 4 && i.What == "}" && i.Severity == ImportSeverity.Note);
        Assert.Equal(ImportResult.ExitNotes, r.ExitCode);
    }

    [Theory]
    [InlineData("10-http.conf", "*.conf", true)]
    [InlineData("10-http.conf", "??-*.conf", true)]
    [InlineData("10-http.conf", "[0-9]0-*", true)]
    [InlineData("10-http.conf", "[!1]*", false)]
    [InlineData("10-http.conf", "*.cfg", false)]
    [InlineData("a", "a*", true)]
    [InlineData("ab", "a?", true)]
    [InlineData("a", "a?", false)]
    public void Glob_matching(string name, string pattern, bool expected) => Assert.Equal(expected, Glob.Matches(name, pattern));

    [Fact]
    public void Include_loop_is_a_parse_error()
    {
        var dir = Directory.CreateTempSubdirectory("tunlb-import-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "a.conf"), "include b.conf\n");
            File.WriteAllText(Path.Combine(dir.FullName, "b.conf"), "\ninclude a.conf\n");
            var e = Assert.Throws<KeepalivedParseException>(() => KeepalivedImporter.ImportFile(Path.Combine(dir.FullName, "a.conf")));
            Assert.Contains("include loop", e.Message);
            Assert.EndsWith("b.conf", e.File);
            Assert.Equal(2, e.Line);
        }
        finally { dir.Delete(true); }
    }
}

using System.CommandLine;
using TunLB.Cli.Import;

namespace TunLB.Cli.Commands;

/// <summary>
/// `tunlb import keepalived FILE [-o OUT]`: converts keepalived virtual_server blocks into director
/// TOML (docs/keepalived-import.md). Exit 0: equivalent, nothing to report; 3: equivalent, with notes (differences
/// that change no behaviour); 4: something was skipped or changed (see stderr); 2: the input cannot be read or parsed
/// (nothing written); 1: the output cannot be written.
/// </summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var import = new Command("import", "Convert another load balancer's configuration into TunLB's director.toml.");

        var file = new Argument<string>("file") { Description = "keepalived.conf to convert (its include files are read too)" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the TOML here instead of standard output" };
        var keepalived = new Command("keepalived",
            "Convert keepalived virtual_server blocks into [[service]] tables. Every item that cannot be converted is " +
            "reported on stderr as FILE:LINE. Exit 0: equivalent; 3: equivalent, with notes; 4: something was skipped or changed; 2: parse error.");
        keepalived.Arguments.Add(file);
        keepalived.Options.Add(output);
        keepalived.SetAction(pr => Run(pr.GetValue(file)!, pr.GetValue(output), Console.Out, Console.Error));
        import.Subcommands.Add(keepalived);
        return import;
    }

    /// <summary>The command's work, with its streams passed in (testable without a console).</summary>
    public static int Run(string file, string? output, TextWriter stdout, TextWriter stderr)
    {
        ImportResult result;
        try
        {
            result = KeepalivedImporter.ImportFile(file);
        }
        catch (KeepalivedParseException e)
        {
            stderr.WriteLine($"{e.Message}");
            stderr.WriteLine("tunlb import keepalived: cannot read or parse the input; nothing was written");
            return ImportResult.ExitParseError;
        }

        foreach (var issue in result.Issues) stderr.WriteLine(issue);
        if (output is null) stdout.Write(result.Toml);
        else
        {
            try { File.WriteAllText(output, result.Toml); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                stderr.WriteLine($"tunlb import keepalived: cannot write {output}: {e.Message}");
                return 1;
            }
        }
        stderr.WriteLine($"tunlb import keepalived: {result.Summary}" +
                         (output is null ? "" : $"; written to {output}"));
        if (result.ExitCode == ImportResult.ExitIncomplete)
            stderr.WriteLine("tunlb import keepalived: some items were skipped or behave differently (listed above, and in the output's header); review before use");
        else if (result.ExitCode == ImportResult.ExitNotes)
            stderr.WriteLine("tunlb import keepalived: equivalent, with the notes above (differences that change nothing that is balanced or checked)");
        return result.ExitCode;
    }
}

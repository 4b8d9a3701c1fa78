using TunLB.Cli.Commands;

namespace TunLB.Cli.Import;

/// <summary>The converted text through the director's loader and model, as <c>tunlb director --check</c> runs them.</summary>
internal static class ImportSelfCheck
{
    public static IReadOnlyList<string> Errors(string toml, string name) => ConfigCheck.DirectorErrors(toml, name);
}

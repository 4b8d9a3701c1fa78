namespace TunLB.Cli.Import;

/// <summary>How much a reported item matters for the converted configuration.</summary>
public enum ImportSeverity
{
    /// <summary>Converted with a documented approximation, or outside the scope of the import (VRRP, global_defs); exit code unaffected.</summary>
    Note,
    /// <summary>Converted, but TunLB will behave differently (e.g. NAT converted as TUN, an unsupported scheduler replaced); exit code 3.</summary>
    Changed,
    /// <summary>Left out of the output: it has no TunLB equivalent; exit code 3.</summary>
    Skipped,
}

/// <summary>One item of the import report: <c>FILE:LINE: SEVERITY: WHAT: WHY</c>.</summary>
public sealed record ImportIssue(string File, int Line, ImportSeverity Severity, string What, string Why)
{
    public string SeverityName => Severity switch
    {
        ImportSeverity.Note => "note",
        ImportSeverity.Changed => "changed",
        _ => "skipped",
    };

    public override string ToString() => $"{File}:{Line}: {SeverityName}: {What}: {Why}";
}

/// <summary>The result of converting one keepalived configuration.</summary>
public sealed class ImportResult
{
    /// <summary>Exit code when every item mapped (notes allowed).</summary>
    public const int ExitOk = 0;
    /// <summary>Exit code for a parse error or an unreadable input: nothing is written.</summary>
    public const int ExitParseError = 2;
    /// <summary>Exit code when the output was written but some items were skipped or changed.</summary>
    public const int ExitIncomplete = 3;

    public required string Toml { get; init; }
    /// <summary>In source order (file, then line).</summary>
    public required IReadOnlyList<ImportIssue> Issues { get; init; }
    /// <summary>virtual_server blocks found (all kinds: address, fwmark, group).</summary>
    public required int VirtualServers { get; init; }
    /// <summary>[[service]] tables written.</summary>
    public required int ServicesWritten { get; init; }
    public required int RealsWritten { get; init; }

    public int Count(ImportSeverity s) => Issues.Count(i => i.Severity == s);
    public int ExitCode => Issues.Any(i => i.Severity != ImportSeverity.Note) ? ExitIncomplete : ExitOk;

    /// <summary>One line: what was converted and what was not.</summary>
    public string Summary =>
        $"{ServicesWritten} of {VirtualServers} virtual_server block(s) converted, {RealsWritten} real server(s); " +
        $"{Count(ImportSeverity.Skipped)} skipped, {Count(ImportSeverity.Changed)} changed, {Count(ImportSeverity.Note)} note(s)";
}

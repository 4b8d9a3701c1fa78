namespace TunLB.Cli.Import;

/// <summary>How much a reported item matters for the converted configuration.</summary>
public enum ImportSeverity
{
    /// <summary>A documented difference that changes nothing that is balanced or checked, or a block outside the import's scope (VRRP, global_defs); exit code 3.</summary>
    Note,
    /// <summary>Converted, but TunLB will behave differently (an unsupported scheduler replaced, a status range cut); exit code 4.</summary>
    Changed,
    /// <summary>Left out of the output: it has no TunLB equivalent; exit code 4.</summary>
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
    /// <summary>Exit code when the output is equivalent and the report is empty.</summary>
    public const int ExitOk = 0;
    /// <summary>Exit code for a parse error or an unreadable input: nothing is written.</summary>
    public const int ExitParseError = 2;
    /// <summary>Exit code when the output is equivalent, with documented differences that change no behaviour (notes only).</summary>
    public const int ExitNotes = 3;
    /// <summary>Exit code when something was skipped or changed: the output behaves differently; read the report.</summary>
    public const int ExitIncomplete = 4;

    public required string Toml { get; init; }
    /// <summary>In source order (file, then line).</summary>
    public required IReadOnlyList<ImportIssue> Issues { get; init; }
    /// <summary>virtual_server blocks found (all kinds: address, fwmark, group; a group block yields a service per member).</summary>
    public required int VirtualServers { get; init; }
    /// <summary>[[service]] tables written.</summary>
    public required int ServicesWritten { get; init; }
    public required int RealsWritten { get; init; }

    public int Count(ImportSeverity s) => Issues.Count(i => i.Severity == s);
    public int ExitCode =>
        Issues.Any(i => i.Severity != ImportSeverity.Note) ? ExitIncomplete : Issues.Count > 0 ? ExitNotes : ExitOk;

    /// <summary>One line: what was converted and what was not.</summary>
    public string Summary =>
        $"{VirtualServers} virtual_server block(s) converted into {ServicesWritten} service(s), {RealsWritten} real server(s); " +
        $"{Count(ImportSeverity.Skipped)} skipped, {Count(ImportSeverity.Changed)} changed, {Count(ImportSeverity.Note)} note(s)";
}

using TunLB.Control.Api;

namespace TunLB.Cli.Adm;

/// <summary>
/// <c>tunlb adm -R</c>: reads every line first (an ipvsadm command line, optionally after <c>ipvsadm</c>,
/// <c>/sbin/ipvsadm</c>, <c>/usr/sbin/ipvsadm</c> and a leading <c>sudo</c>; <c>#</c> starts a comment). Any refused
/// line is printed with its number and nothing is applied; otherwise the service and real-server changes go to the
/// director as one all-or-nothing batch (POST /api/v1/batch), then -Z and --set lines. With <c>--continue</c> the lines
/// are applied one by one as ipvsadm does: the first refused line stops the restore, the lines before it stay applied.
/// </summary>
public static class AdmRestore
{
    public const string ContinueOption = "--continue";

    private static readonly HashSet<string> SudoOptionsWithValue = ["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "-c"];

    /// <summary>One restore line's arguments without the program name, or an error for a line that runs something else.</summary>
    public static (List<string> Args, string? Error) SplitLine(string line)
    {
        int hash = line.IndexOf('#');
        if (hash >= 0) line = line[..hash];
        var tokens = line.Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries).ToList();
        int i = 0;
        bool sudo = false;
        if (i < tokens.Count && (tokens[i] == "sudo" || tokens[i].EndsWith("/sudo", StringComparison.Ordinal)))
        {
            sudo = true;
            i++;
            // sudo's own options (-n, -E, -u root, --user=root ...) and VAR=value assignments come before the command.
            while (i < tokens.Count && (tokens[i].StartsWith('-') || tokens[i].Contains('=')))
            {
                if (tokens[i] == "--") { i++; break; }
                if (SudoOptionsWithValue.Contains(tokens[i])) i++;
                i++;
            }
        }
        if (i < tokens.Count && IsIpvsadm(tokens[i])) i++;
        else if (sudo)
            return ([], i < tokens.Count ? $"sudo runs `{tokens[i]}', not ipvsadm" : "sudo without a command");
        return (tokens.Skip(i).ToList(), null);
    }

    private static bool IsIpvsadm(string t) => t == "ipvsadm" || t.EndsWith("/ipvsadm", StringComparison.Ordinal);

    public static int Run(AdmClient client, TextReader stdin, TextWriter stdout, TextWriter stderr, AdmEnvironment env, bool keepGoing)
    {
        if (keepGoing) return LineByLine(client, stdin, stdout, stderr, env);
        var requests = new List<(int Line, AdmRequest Request)>();
        var refused = new List<string>();
        int exit = 0;
        string? text;
        for (int lineNo = 1; (text = stdin.ReadLine()) is not null; lineNo++)
        {
            var (request, error, code) = ParseLine(text, lineNo, env);
            if (error is not null) { refused.Add(error); exit = code; continue; }
            if (request is null) continue;
            if (Unfit(request) is { } why) { refused.Add($"line {lineNo}: {why}"); exit = 2; continue; }
            requests.Add((lineNo, request));
        }

        if (refused.Count > 0)
        {
            foreach (var r in refused) stderr.Write(r + "\n");
            stderr.Write($"{AdmCommand.Program}: {refused.Count} line(s) refused; nothing was applied " +
                         $"(use {ContinueOption} to apply the other lines one by one)\n");
            return exit;
        }

        var ops = requests.Where(r => BatchOpOf(r.Request, r.Line) is not null).Select(r => BatchOpOf(r.Request, r.Line)!).ToList();
        try
        {
            if (ops.Count > 0) client.Batch(new BatchSpec(ops));
        }
        catch (AdmApiException e)
        {
            stderr.Write(e.Message + "\n");
            foreach (var d in e.Details) stderr.Write(d + "\n");
            stderr.Write($"{AdmCommand.Program}: the director refused the restore; nothing was applied\n");
            return 1;
        }
        catch (AdmUnreachableException e)
        {
            stderr.Write($"{AdmCommand.Program}: cannot reach the director API at {e.BaseUrl}: {e.Message}; nothing was applied\n");
            return 1;
        }
        // -Z and --set change no service: they follow the batch, as they followed the lines before them.
        return OneByOne(client, requests.Where(r => BatchOpOf(r.Request, r.Line) is null).ToList(), stdout, stderr, 0);
    }

    /// <summary>A line's request (null for a blank or comment line), or "line N: why" and the exit code.</summary>
    private static (AdmRequest? Request, string? Error, int Code) ParseLine(string text, int lineNo, AdmEnvironment env)
    {
        var (args, splitError) = SplitLine(text);
        if (splitError is not null) return (null, $"line {lineNo}: {splitError}", 2);
        if (args.Count == 0) return (null, null, 0);
        var (request, error) = AdmParser.Parse(args, env.ResolveHost, env.ResolvePort);
        if (error is not null) return (null, $"line {lineNo}: {(error.Message.Length > 0 ? error.Message : "invalid command")}", error.ExitCode);
        if (request!.Command is AdmCommandKind.Restore or AdmCommandKind.Help or AdmCommandKind.Version)
            return (null, $"line {lineNo}: this command can't be used in a restore file", 2);
        return (request, null, 0);
    }

    /// <summary>--continue: ipvsadm's -R, each line parsed and applied in order, stopping at the first refused one.</summary>
    private static int LineByLine(AdmClient client, TextReader stdin, TextWriter stdout, TextWriter stderr, AdmEnvironment env)
    {
        string? text;
        for (int lineNo = 1; (text = stdin.ReadLine()) is not null; lineNo++)
        {
            var (request, error, code) = ParseLine(text, lineNo, env);
            if (error is not null) { stderr.Write(error + "\n"); return code; }
            if (request is null) continue;
            int exit = OneByOne(client, [(lineNo, request)], stdout, stderr, 0);
            if (exit != 0) return exit;
        }
        return 0;
    }

    /// <summary>Why a parsed command cannot be part of an all-or-nothing restore (null: it can).</summary>
    private static string? Unfit(AdmRequest r) => r.Command switch
    {
        AdmCommandKind.AddService or AdmCommandKind.EditService or AdmCommandKind.DeleteService or AdmCommandKind.Clear
            or AdmCommandKind.AddServer or AdmCommandKind.DeleteServer or AdmCommandKind.Zero or AdmCommandKind.SetTimeouts => null,
        AdmCommandKind.EditServer when r.Drain is null => null,
        AdmCommandKind.EditServer => $"--drain/--undrain cannot be part of an all-or-nothing restore; run it on its own or use {ContinueOption}",
        _ => $"only changes (-A -E -D -C -a -e -d -Z --set) can be part of an all-or-nothing restore; use {ContinueOption} for others",
    };

    /// <summary>The batch operation of a service or real-server change; null for -Z and --set.</summary>
    internal static BatchOp? BatchOpOf(AdmRequest r, int line)
    {
        var s = r.Service;
        return r.Command switch
        {
            AdmCommandKind.AddService => new BatchOp(BatchOps.AddService, Service: AdmSpecs.Service(r, create: true), Line: line),
            AdmCommandKind.EditService => new BatchOp(BatchOps.EditService, s!.Protocol, s.Vip, s.Port, Service: AdmSpecs.Service(r, create: false), Line: line),
            AdmCommandKind.DeleteService => new BatchOp(BatchOps.DeleteService, s!.Protocol, s.Vip, s.Port, Line: line),
            AdmCommandKind.Clear => new BatchOp(BatchOps.Clear, Line: line),
            AdmCommandKind.AddServer => new BatchOp(BatchOps.AddReal, s!.Protocol, s.Vip, s.Port, Real: AdmSpecs.Real(r, create: true), Line: line),
            AdmCommandKind.EditServer when r.Drain is null => new BatchOp(BatchOps.EditReal, s!.Protocol, s.Vip, s.Port, Real: AdmSpecs.Real(r, create: false),
                Address: r.RealAddress!.ToString(), RealPort: r.RealPort, Line: line),
            AdmCommandKind.DeleteServer when r.Drain != true => new BatchOp(BatchOps.DeleteReal, s!.Protocol, s.Vip, s.Port,
                Address: r.RealAddress!.ToString(), RealPort: r.RealPort, Line: line),
            _ => null,
        };
    }

    /// <summary>Each request in order; a refused one is reported with its line.</summary>
    private static int OneByOne(AdmClient client, List<(int Line, AdmRequest Request)> requests, TextWriter stdout, TextWriter stderr, int exit)
    {
        foreach (var (line, request) in requests)
        {
            try
            {
                stdout.Write(AdmCommand.Execute(client, request));
            }
            catch (AdmApiException e)
            {
                stderr.Write($"line {line}: {e.Message}\n");
                exit = 1;
            }
            catch (AdmUnreachableException e)
            {
                stderr.Write($"line {line}: cannot reach the director API at {e.BaseUrl}: {e.Message}\n");
                return 1;
            }
        }
        return exit;
    }
}

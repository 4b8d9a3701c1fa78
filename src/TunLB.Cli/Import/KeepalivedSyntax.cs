namespace TunLB.Cli.Import;

/// <summary>A keepalived.conf file cannot be read or its structure is broken (exit code 2).</summary>
public sealed class KeepalivedParseException(string file, int line, string message)
    : Exception(line > 0 ? $"{file}:{line}: {message}" : $"{file}: {message}")
{
    public string File { get; } = file;
    /// <summary>1-based; 0 when the error concerns the whole file.</summary>
    public int Line { get; } = line;
    public string Reason { get; } = message;
}

internal enum KTokenKind { Word, Open, Close, EndOfLine }

/// <summary>One token with the file and 1-based line it comes from (includes keep their own file).</summary>
internal sealed record KToken(KTokenKind Kind, string Text, bool Quoted, string File, int Line)
{
    /// <summary>Position in the whole token stream (includes spliced in): orders the report as the source reads.</summary>
    public int Seq { get; init; }

    public override string ToString() => Kind switch
    {
        KTokenKind.Open => "{",
        KTokenKind.Close => "}",
        KTokenKind.EndOfLine => "end of line",
        _ => Quoted ? $"\"{Text}\"" : Text,
    };
}

/// <summary>
/// One keepalived statement: a keyword, its arguments (the rest of its line) and, when the line
/// opens a block with <c>{</c>, the statements inside it.
/// </summary>
internal sealed class KStatement
{
    public required KToken KeywordToken { get; init; }
    public required List<KToken> Args { get; init; }
    public List<KStatement>? Block { get; set; }
    /// <summary>The statement's line ended without <c>{</c>; a <c>{</c> on a later line opens its block.</summary>
    internal bool EndedAtEol;

    public string Keyword => KeywordToken.Text;
    public string File => KeywordToken.File;
    public int Line => KeywordToken.Line;
    public string Arg(int i) => i < Args.Count ? Args[i].Text : "";

    public int Seq => KeywordToken.Seq;

    /// <summary>The statement as written (keyword and arguments), for messages.</summary>
    public string Text => Args.Count == 0 ? Keyword : $"{Keyword} {string.Join(' ', Args)}";
}

/// <summary>
/// Reads keepalived's configuration syntax: words, double-quoted strings, <c>{</c> <c>}</c>
/// blocks (also several on one line), comments from a <c>#</c> or <c>!</c> at the start of a word
/// to the end of the line, and <c>include PATTERN</c> lines (relative to the including file, with
/// <c>*</c> <c>?</c> <c>[...]</c> wildcards, files in sorted order). Written from the keepalived.conf(5)
/// manual page; no keepalived code is used.
/// </summary>
internal static class KeepalivedSyntax
{
    public const int MaxIncludeDepth = 32;

    /// <summary>Parses a file and everything it includes into top-level statements.</summary>
    /// <param name="includeProblems">Receives include patterns that matched no file (file, line, pattern).</param>
    /// <param name="stray">Receives each '}' that closes no block (keepalived logs "Extra '}' found" and goes on).</param>
    public static List<KStatement> ParseFile(string path, List<(string File, int Line, string Pattern, int Seq)> includeProblems,
                                             List<KToken>? stray = null)
    {
        var full = Path.GetFullPath(path);
        var tokens = new List<KToken>();
        Tokenize(ReadText(path, path, 0), path, Path.GetDirectoryName(full) ?? ".", tokens, [full], includeProblems);
        return Parse(tokens, stray);
    }

    /// <summary>Parses text; includes are resolved relative to <paramref name="path"/>'s directory.</summary>
    public static List<KStatement> ParseText(string text, string path, List<(string File, int Line, string Pattern, int Seq)> includeProblems,
                                             List<KToken>? stray = null)
    {
        var full = Path.GetFullPath(path);
        var tokens = new List<KToken>();
        Tokenize(text, path, Path.GetDirectoryName(full) ?? ".", tokens, [full], includeProblems);
        return Parse(tokens, stray);
    }

    private static string ReadText(string path, string fromFile, int fromLine)
    {
        string why;
        try { return System.IO.File.ReadAllText(path); }
        catch (FileNotFoundException) { why = "file not found"; }
        catch (DirectoryNotFoundException) { why = "file not found (its directory does not exist)"; }
        catch (UnauthorizedAccessException) { why = "permission denied (or the path is a directory)"; }
        catch (IOException ex) { why = ex.Message; }
        catch (ArgumentException ex) { why = $"invalid path: {ex.Message}"; }
        if (fromLine > 0) throw new KeepalivedParseException(fromFile, fromLine, $"include {path}: cannot read: {why}");
        throw new KeepalivedParseException(path, 0, $"cannot read: {why}");
    }

    // ------------------------------------------------------------------ tokens

    internal static void Tokenize(string text, string file, string dir, List<KToken> output, List<string> stack,
                                  List<(string File, int Line, string Pattern, int Seq)> includeProblems)
    {
        var lines = text.Split('\n');
        var lineTokens = new List<KToken>();
        for (int n = 0; n < lines.Length; n++)
        {
            int lineNo = n + 1;
            lineTokens.Clear();
            LexLine(lines[n].TrimEnd('\r'), file, lineNo, lineTokens);
            if (lineTokens.Count > 0 && lineTokens[0] is { Kind: KTokenKind.Word, Quoted: false, Text: "include" })
            {
                if (lineTokens.Count < 2 || lineTokens.Skip(1).Any(t => t.Kind != KTokenKind.Word))
                    throw new KeepalivedParseException(file, lineNo, "include needs a file name (a path or a glob pattern)");
                foreach (var pattern in lineTokens.Skip(1))
                    Include(pattern.Text, file, lineNo, dir, output, stack, includeProblems);
                continue;
            }
            foreach (var t in lineTokens) output.Add(t with { Seq = output.Count });
            output.Add(new KToken(KTokenKind.EndOfLine, "", false, file, lineNo) { Seq = output.Count });
        }
    }

    private static void Include(string pattern, string file, int line, string dir, List<KToken> output, List<string> stack,
                                List<(string File, int Line, string Pattern, int Seq)> includeProblems)
    {
        if (stack.Count >= MaxIncludeDepth)
            throw new KeepalivedParseException(file, line, $"include {pattern}: includes nested more than {MaxIncludeDepth} deep");
        string full;
        // A NUL in the name (found by fuzzing) makes GetFullPath throw: report it as the file's error, as ReadText does.
        try { full = Path.GetFullPath(Path.IsPathRooted(pattern) ? pattern : Path.Combine(dir, pattern)); }
        catch (ArgumentException ex) { throw new KeepalivedParseException(file, line, $"include {pattern}: invalid path: {ex.Message}"); }
        var matches = Glob.Expand(full);
        if (matches.Count == 0)
        {
            includeProblems.Add((file, line, pattern, output.Count));
            return;
        }
        foreach (var m in matches)
        {
            var mFull = Path.GetFullPath(m);
            if (stack.Contains(mFull))
                throw new KeepalivedParseException(file, line, $"include {pattern}: {m} includes itself (an include loop)");
            // Name included files as the user would: relative patterns relative to the including file's name.
            var shown = Path.IsPathRooted(pattern) ? m
                : Path.Combine(Path.GetDirectoryName(file) ?? "", Path.GetRelativePath(dir, mFull));
            stack.Add(mFull);
            Tokenize(ReadText(m, file, line), shown, Path.GetDirectoryName(mFull) ?? ".", output, stack, includeProblems);
            stack.RemoveAt(stack.Count - 1);
        }
    }

    internal static void LexLine(string line, string file, int lineNo, List<KToken> output)
    {
        int i = 0;
        while (i < line.Length)
        {
            char c = line[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c is '#' or '!') return; // comment to the end of the line
            if (c == '{') { output.Add(new KToken(KTokenKind.Open, "{", false, file, lineNo)); i++; continue; }
            if (c == '}') { output.Add(new KToken(KTokenKind.Close, "}", false, file, lineNo)); i++; continue; }
            if (c == '"')
            {
                int close = line.IndexOf('"', i + 1);
                if (close < 0) throw new KeepalivedParseException(file, lineNo, "unterminated quoted string (a \" without its closing \")");
                output.Add(new KToken(KTokenKind.Word, line[(i + 1)..close], true, file, lineNo));
                i = close + 1;
                continue;
            }
            int start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i]) && line[i] is not ('{' or '}' or '"')) i++;
            output.Add(new KToken(KTokenKind.Word, line[start..i], false, file, lineNo));
        }
    }

    // ------------------------------------------------------------------ statements

    internal static List<KStatement> Parse(List<KToken> tokens, List<KToken>? stray = null)
    {
        int pos = 0;
        return ParseBlock(tokens, ref pos, null, stray ?? []);
    }

    private static List<KStatement> ParseBlock(List<KToken> tokens, ref int pos, KToken? opener, List<KToken> stray)
    {
        var list = new List<KStatement>();
        while (pos < tokens.Count)
        {
            var t = tokens[pos];
            switch (t.Kind)
            {
                case KTokenKind.EndOfLine:
                    pos++;
                    continue;
                case KTokenKind.Close:
                    pos++;
                    // keepalived reports "Extra '}' found" and reads on at the top level; so does the import.
                    if (opener is null) { stray.Add(t); continue; }
                    return list;
                case KTokenKind.Open:
                    // "keyword args" on one line, "{" on the next.
                    if (list.Count > 0 && list[^1] is { Block: null, EndedAtEol: true } prev)
                    {
                        pos++;
                        prev.Block = ParseBlock(tokens, ref pos, t, stray);
                        continue;
                    }
                    throw new KeepalivedParseException(t.File, t.Line, "'{' without a keyword before it");
            }
            pos++;
            var args = new List<KToken>();
            while (pos < tokens.Count && tokens[pos].Kind == KTokenKind.Word) args.Add(tokens[pos++]);
            var stmt = new KStatement { KeywordToken = t, Args = args };
            if (pos < tokens.Count && tokens[pos].Kind == KTokenKind.Open)
            {
                var open = tokens[pos++];
                stmt.Block = ParseBlock(tokens, ref pos, open, stray);
            }
            else stmt.EndedAtEol = pos < tokens.Count && tokens[pos].Kind == KTokenKind.EndOfLine;
            list.Add(stmt);
        }
        if (opener is not null)
            throw new KeepalivedParseException(opener.File, opener.Line, "this '{' is never closed (missing '}')");
        return list;
    }
}

/// <summary>Shell-style wildcards for include: <c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[a-z]</c>, <c>[!x]</c>.</summary>
internal static class Glob
{
    public static bool HasWildcard(string s) => s.IndexOfAny(['*', '?', '[']) >= 0;

    /// <summary>Files matching an absolute pattern, sorted (as glob(3)); a pattern without wildcards matches itself if it exists.</summary>
    public static List<string> Expand(string pattern)
    {
        if (!HasWildcard(pattern)) return System.IO.File.Exists(pattern) ? [pattern] : [];
        var root = Path.GetPathRoot(pattern) ?? "";
        var segments = pattern[root.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { root.Length > 0 ? root : "." };
        for (int i = 0; i < segments.Length; i++)
        {
            bool last = i == segments.Length - 1;
            var seg = segments[i];
            var next = new List<string>();
            foreach (var dir in current)
            {
                if (!HasWildcard(seg))
                {
                    var p = Path.Combine(dir, seg);
                    if (last ? System.IO.File.Exists(p) : Directory.Exists(p)) next.Add(p);
                    continue;
                }
                if (!Directory.Exists(dir)) continue;
                IEnumerable<string> entries;
                try { entries = last ? Directory.EnumerateFiles(dir) : Directory.EnumerateDirectories(dir); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                var names = entries.Select(Path.GetFileName).OfType<string>()
                    .Where(n => (seg.StartsWith('.') || !n.StartsWith('.')) && Matches(n, seg))
                    .Order(StringComparer.Ordinal);
                next.AddRange(names.Select(n => Path.Combine(dir, n)));
            }
            current = next;
        }
        return current;
    }

    public static bool Matches(string name, string pattern) => Match(name, 0, pattern, 0);

    private static bool Match(string s, int si, string p, int pi)
    {
        while (pi < p.Length)
        {
            char c = p[pi];
            if (c == '*')
            {
                for (int k = si; k <= s.Length; k++)
                    if (Match(s, k, p, pi + 1)) return true;
                return false;
            }
            if (si >= s.Length) return false;
            if (c == '?') { si++; pi++; continue; }
            if (c == '[')
            {
                int close = p.IndexOf(']', pi + 2);
                if (close > 0)
                {
                    int j = pi + 1;
                    bool negate = p[j] is '!' or '^';
                    if (negate) j++;
                    bool hit = false;
                    for (; j < close; j++)
                    {
                        if (j + 2 < close && p[j + 1] == '-') { hit |= s[si] >= p[j] && s[si] <= p[j + 2]; j += 2; }
                        else hit |= s[si] == p[j];
                    }
                    if (hit == negate) return false;
                    si++; pi = close + 1;
                    continue;
                }
            }
            if (s[si] != c) return false;
            si++; pi++;
        }
        return si == s.Length;
    }
}

namespace TunLB.Health;

/// <summary>Accepted HTTP status codes: "200-399", "200,204", "2xx" style lists of codes and ranges.</summary>
public sealed class StatusRanges
{
    private readonly (int Lo, int Hi)[] _ranges;

    private StatusRanges((int, int)[] ranges, string text) { _ranges = ranges; Text = text; }

    public string Text { get; }

    public bool Contains(int status) => _ranges.Any(r => status >= r.Lo && status <= r.Hi);

    public static bool TryParse(string text, out StatusRanges ranges, out string error)
    {
        ranges = null!;
        error = "";
        var list = new List<(int, int)>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (raw.Length == 3 && char.IsDigit(raw[0]) && raw[1..].Equals("xx", StringComparison.OrdinalIgnoreCase))
            {
                int c = (raw[0] - '0') * 100;
                list.Add((c, c + 99));
                continue;
            }
            var parts = raw.Split('-', StringSplitOptions.TrimEntries);
            if (parts.Length is < 1 or > 2 || !int.TryParse(parts[0], out int lo) || (parts.Length == 2 && !int.TryParse(parts[1], out _)))
            {
                error = $"\"{raw}\" is not a status code or range (expected e.g. \"200-399\", \"200,204\" or \"2xx\")";
                return false;
            }
            int hi = parts.Length == 2 ? int.Parse(parts[1]) : lo;
            if (lo < 100 || hi > 599 || lo > hi)
            {
                error = $"\"{raw}\" is not within 100..599 with low <= high";
                return false;
            }
            list.Add((lo, hi));
        }
        if (list.Count == 0) { error = "empty status list"; return false; }
        ranges = new StatusRanges(list.ToArray(), text);
        return true;
    }

    public static StatusRanges Parse(string text) =>
        TryParse(text, out var r, out var e) ? r : throw new FormatException(e);
}

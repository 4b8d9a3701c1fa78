namespace TunLB.Lab;

/// <summary>dist/bird/director.conf and router.conf as shipped (embedded at build time, so the lab never runs a copy
/// that drifted from the files the docs describe).</summary>
public static class BirdConfigs
{
    public static string Director => Read("bird/director.conf");
    public static string Router => Read("bird/router.conf");

    private static string Read(string name)
    {
        using var s = typeof(BirdConfigs).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded {name} is missing");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }
}

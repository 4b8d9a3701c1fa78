namespace TunLB.Director.Api.Status;

/// <summary>The page's stylesheet and script (status.css, status.js beside this file), embedded in the assembly and inlined.</summary>
internal static class StatusAssets
{
    public static readonly string Css = Read("status.css");
    public static readonly string Js = Read("status.js");

    private static string Read(string name)
    {
        using var s = typeof(StatusAssets).Assembly.GetManifestResourceStream("TunLB.Director.Status." + name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }
}

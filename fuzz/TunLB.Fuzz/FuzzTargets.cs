using TunLB.Fuzz.Targets;

namespace TunLB.Fuzz;

/// <summary>Every target by name. A target is created once per process and then runs many inputs.</summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyList<string> Names = ["director", "decap", "fragments", "config", "keepalived", "adm", "api"];

    public static IFuzzTarget Create(string name) => name switch
    {
        "director" => new DirectorPacketTarget(),
        "decap" => new DecapTarget(),
        "fragments" => new FragmentTableTarget(),
        "config" => new ConfigTarget(),
        "keepalived" => new KeepalivedTarget(),
        "adm" => new AdmTarget(),
        "api" => new ApiBodyTarget(),
        _ => throw new ArgumentException($"unknown fuzz target '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };
}

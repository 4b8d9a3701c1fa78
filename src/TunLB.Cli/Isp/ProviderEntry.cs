namespace TunLB.Cli.Isp;

/// <summary>What a provider's documentation says about packets whose source is not the server's own address (see docs/isps.md).</summary>
public enum ProviderSupport { Allowed, Setting, AllowedAddresses, AssignedOnly, NotPossible, Undocumented }

/// <summary>One documented provider of data/providers.toml.</summary>
public sealed record ProviderEntry(
    string Name, IReadOnlyList<string> Aliases, string Kind, ProviderSupport Ipv4, ProviderSupport Ipv6,
    string Setting, string Detail, IReadOnlyList<string> Sources, string Read, int Line)
{
    public bool Matches(string query) =>
        Name.Contains(query, StringComparison.OrdinalIgnoreCase) || Aliases.Any(a => a.Contains(query, StringComparison.OrdinalIgnoreCase));

    public bool IsExactly(string query) =>
        Name.Equals(query, StringComparison.OrdinalIgnoreCase) || Aliases.Any(a => a.Equals(query, StringComparison.OrdinalIgnoreCase));
}

using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Control.Configuration;

/// <summary>
/// The one set of rules for a real server, used by the config loader, the management API and <c>tunlb adm</c>: ranges,
/// defaults and which fields go together. Collects every error instead of stopping at the first. Pure.
/// </summary>
public static class RealServerRules
{
    public const int MaxWeight = 65535;
    public const int MinMtu = 576, MinMtuV6 = 1280, MaxMtu = 65535;
    public const int DefaultWeight = 1;

    /// <summary>Checks the fields of one real server; errors name the fields as <paramref name="names"/> does.</summary>
    /// <param name="servicePort">The port a server takes when it names none.</param>
    public static RealServerCheck Check(RealServerFields f, ushort servicePort, RealServerFieldNames names)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(names);
        var errors = new List<FieldError>();

        IpAddress address = default;
        bool addressOk = false;
        if (f.Address is null) errors.Add(new(names.Address, "required key is missing"));
        else if (ConfigText.TryParseHostAddress(f.Address, out address, out var why)) addressOk = true;
        else errors.Add(new(names.Address, why));

        int port = Range(f.Port, 0, 65535, servicePort, names.Port, errors);
        int weight = Range(f.Weight, 0, MaxWeight, DefaultWeight, names.Weight, errors);
        int upper = Range(f.UpperThreshold, 0, int.MaxValue, 0, names.UpperThreshold, errors);
        int lower = Range(f.LowerThreshold, 0, int.MaxValue, 0, names.LowerThreshold, errors);
        if (upper > 0 && lower > upper)
            errors.Add(new(names.LowerThreshold, $"{names.LowerThreshold} {lower} is above {names.UpperThreshold} {upper}", names.UpperThreshold));

        int mtu = Range(f.Mtu, 0, MaxMtu, 0, names.Mtu, errors);
        int minMtu = addressOk && !address.IsV4 ? MinMtuV6 : MinMtu;
        if (mtu != 0 && mtu < minMtu)
        {
            errors.Add(new(names.Mtu, $"{names.Mtu} {mtu} is too small; use 0 (from the route) or {minMtu}..{MaxMtu}" +
                                      (minMtu == MinMtuV6 ? " (IPv6 links carry at least 1280 bytes)" : "")));
            mtu = 0;
        }

        var encap = EncapKind.Ipip;
        bool encapKnown = true;
        if (f.Encap is { } encapText && !ConfigNames.Encap.TryParse(encapText, out encap))
        {
            encapKnown = false;
            var known = ConfigNames.Encap.Names;
            var suggestion = ConfigText.Suggest(encapText, known);
            errors.Add(new(names.Encap, $"unknown encapsulation \"{encapText}\"; known: {string.Join(" ", known)}"
                                        + (suggestion is not null ? $" (did you mean \"{suggestion}\"?)" : "")));
        }
        int guePort = Range(f.GuePort, 1, 65535, Tunnel.DefaultGuePort, names.GuePort, errors);
        bool gueChecksum = f.GueChecksum ?? false;
        if (encap != EncapKind.Gue)
        {
            // An unknown encap was reported above; don't blame its GUE fields too.
            var gue = ConfigNames.Encap.Name(EncapKind.Gue);
            if (f.GuePort is not null && encapKnown)
                errors.Add(new(names.GuePort, $"{names.GuePort} only applies with {names.Encap} = \"{gue}\"", names.Encap));
            if (f.GueChecksum is not null && encapKnown)
                errors.Add(new(names.GueChecksum, $"{names.GueChecksum} only applies with {names.Encap} = \"{gue}\"", names.Encap));
            guePort = Tunnel.DefaultGuePort;
            gueChecksum = false;
        }

        string? site = Label(f.Site, names.Site, errors);
        string? provider = Label(f.Provider, names.Provider, errors);
        var value = addressOk
            ? new RealServerSettings(address, (ushort)port, weight, upper, lower, encap, (ushort)guePort, gueChecksum, mtu) { Site = site, Provider = provider }
            : null;
        return new RealServerCheck(value, errors);
    }

    public const int MaxLabelLength = 64;

    /// <summary>A metadata label: 1..64 printable characters, trimmed; null when not given or invalid (with an error).</summary>
    private static string? Label(string? value, string field, List<FieldError> errors)
    {
        if (value is null) return null;
        var v = value.Trim();
        if (v.Length == 0 || v.Length > MaxLabelLength || v.Any(char.IsControl))
        {
            errors.Add(new(field, $"{field} must be 1..{MaxLabelLength} printable characters"));
            return null;
        }
        return v;
    }

    /// <summary>The value when given and in range; otherwise the fallback (and an error when out of range).</summary>
    private static int Range(long? value, long min, long max, int fallback, string field, List<FieldError> errors)
    {
        if (value is not { } v) return fallback;
        if (v >= min && v <= max) return (int)v;
        errors.Add(new(field, $"{v} is out of range; must be {min}..{max}"));
        return fallback;
    }
}

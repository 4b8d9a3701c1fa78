using TunLB.Control.Configuration;
using TunLB.Core.Packets;

namespace TunLB.Control.Api;

/// <summary>
/// <see cref="RealServerRules"/> for the API's <see cref="RealSpec"/>: errors name <c>tun_type</c>, <c>tun_port</c> and
/// <c>tun_flags</c> (<see cref="RealServerFieldNames.Api"/>). <c>tun_port</c> 0 and an empty <c>tun_flags</c> mean "not
/// given", as in ipvsadm's output.
/// </summary>
public static class RealSpecRules
{
    public const string Checksum = "csum", NoChecksum = "nocsum";

    /// <summary>Checks a new real server (POST .../reals): a field left out takes its default.</summary>
    /// <param name="servicePort">The port the server takes when the spec names none.</param>
    public static RealServerCheck Check(RealSpec spec, ushort servicePort)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var flagError = ChecksumFlag(spec.TunFlags, out var checksum);
        var fields = new RealServerFields
        {
            Address = spec.Address,
            Port = spec.Port,
            Weight = spec.Weight,
            UpperThreshold = spec.UpperThreshold,
            LowerThreshold = spec.LowerThreshold,
            Encap = spec.TunType,
            GuePort = spec.TunPort is 0 ? null : spec.TunPort,
            GueChecksum = checksum,
        };
        var result = RealServerRules.Check(fields, servicePort, RealServerFieldNames.Api);
        return flagError is null ? result : result with { Errors = [.. result.Errors, flagError] };
    }

    /// <summary>
    /// Checks an edit of <paramref name="current"/> (PUT .../reals/...): a field left out keeps its value; without
    /// <c>tun_type</c> the tunnel stays as it is apart from a <c>tun_port</c> or <c>tun_flags</c> given.
    /// </summary>
    public static RealServerCheck CheckEdit(RealSpec spec, RealServerSettings current)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(current);
        bool keepTunnel = spec.TunType is null;
        return Check(spec with
        {
            Address = spec.Address ?? current.Address.ToString(),
            Port = spec.Port ?? current.Port,
            Weight = spec.Weight ?? current.Weight,
            UpperThreshold = spec.UpperThreshold ?? current.UpperThreshold,
            LowerThreshold = spec.LowerThreshold ?? current.LowerThreshold,
            TunType = spec.TunType ?? current.Encap.ConfigName(),
            TunPort = keepTunnel && spec.TunPort is null or 0 && current.Encap == EncapKind.Gue ? current.GuePort : spec.TunPort,
            TunFlags = keepTunnel && string.IsNullOrEmpty(spec.TunFlags) && current.Encap == EncapKind.Gue
                ? (current.GueChecksum ? Checksum : NoChecksum) : spec.TunFlags,
        }, current.Port);
    }

    /// <summary>The API spelling of a real server's checksum flag: "csum"/"nocsum" with GUE, "" with IPIP.</summary>
    public static string Flags(RealServerSettings s) =>
        s.Encap == EncapKind.Gue ? (s.GueChecksum ? Checksum : NoChecksum) : "";

    private static FieldError? ChecksumFlag(string? flags, out bool? checksum)
    {
        checksum = null;
        switch (flags)
        {
            case null or "": return null;
            case Checksum: checksum = true; return null;
            case NoChecksum: checksum = false; return null;
            default:
                return new FieldError(RealServerFieldNames.Api.GueChecksum, $"tun_flags \"{flags}\" is not supported; use {Checksum} or {NoChecksum}");
        }
    }
}

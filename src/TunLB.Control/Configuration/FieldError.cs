namespace TunLB.Control.Configuration;

/// <summary>One problem with one field of a value checked by a rule set.</summary>
/// <param name="Field">The field, named as the caller names it (<see cref="RealServerFieldNames"/>).</param>
/// <param name="ConflictsWith">
/// Set when the value is fine on its own but not with this other field (lower_threshold above upper_threshold, a GUE
/// port on an IPIP server); null when the value itself is bad.
/// </param>
public sealed record FieldError(string Field, string Message, string? ConflictsWith = null)
{
    public override string ToString() => $"{Field}: {Message}";
}

namespace TunLB.Control.Configuration;

/// <summary>What <see cref="RealServerRules"/> made of a real server's fields.</summary>
/// <param name="Value">
/// The checked server when <see cref="Ok"/>. With errors it is still set when the address is usable, holding the
/// defaults in place of the bad values, so a caller can go on checking (duplicates, say); it is null otherwise.
/// </param>
/// <param name="Errors">Every problem found, in field order; empty when the fields are good.</param>
public sealed record RealServerCheck(RealServerSettings? Value, IReadOnlyList<FieldError> Errors)
{
    public bool Ok => Errors.Count == 0 && Value is not null;
}

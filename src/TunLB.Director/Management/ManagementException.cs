namespace TunLB.Director.Management;

/// <summary>Why a change to the director was refused. The API maps each to an HTTP status.</summary>
public enum ManagementError
{
    /// <summary>The service or real server named does not exist.</summary>
    NotFound,
    /// <summary>It exists already.</summary>
    Conflict,
    /// <summary>The request is well formed but cannot be carried out (for example no route to a real server).</summary>
    Invalid,
    /// <summary>A data-path worker did not answer in time.</summary>
    Unavailable,
}

/// <summary>
/// A change the control plane refused before changing anything: the kind, the request field at fault and a message.
/// </summary>
public sealed class ManagementException(ManagementError error, string? field, string message) : Exception(message)
{
    public ManagementError Error { get; } = error;
    public string? Field { get; } = field;
}

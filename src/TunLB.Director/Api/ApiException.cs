namespace TunLB.Director.Api;

/// <summary>
/// A management request that cannot be carried out: the HTTP status, the request field at fault (the JSON
/// name, or the route parameter) and a message. Thrown by <see cref="DirectorApi"/> before anything changes,
/// so a failed request leaves the runtime as it was.
/// </summary>
public sealed class ApiException : Exception
{
    public ApiException(int status, string? field, string message, IReadOnlyList<string>? details = null) : base(message)
    {
        Status = status; Field = field; Details = details;
    }

    public int Status { get; }
    public string? Field { get; }
    public IReadOnlyList<string>? Details { get; }

    public static ApiException BadRequest(string field, string message) => new(400, field, message);
    public static ApiException NotFound(string field, string message) => new(404, field, message);
    public static ApiException Conflict(string field, string message) => new(409, field, message);
}

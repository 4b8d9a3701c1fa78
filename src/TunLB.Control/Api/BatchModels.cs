namespace TunLB.Control.Api;

// POST /api/v1/batch  BatchSpec -> BatchResultDto: every change is checked first, then all are applied under one
// state lock and published once; if any is refused nothing changes (400, or 404/409, with one detail per refused
// operation: "operation N (line L): message"). `tunlb adm -R` sends a restore file this way.

/// <summary>
/// One change of a batch. <see cref="Op"/>: add-service, edit-service, delete-service, clear, add-real, edit-real,
/// delete-real. The service is named by <see cref="Protocol"/>/<see cref="Vip"/>/<see cref="Port"/> (add-service: by
/// <see cref="Service"/>), a real by <see cref="Address"/>/<see cref="RealPort"/>. <see cref="Line"/> is the caller's
/// own reference (a restore file's line), echoed in errors.
/// </summary>
public sealed record BatchOp(string Op, string? Protocol = null, string? Vip = null, int? Port = null, ServiceSpec? Service = null,
    RealSpec? Real = null, string? Address = null, int? RealPort = null, int? Line = null);

public sealed record BatchSpec(IReadOnlyList<BatchOp> Ops);

public sealed record BatchResultDto(int Applied);

public static class BatchOps
{
    public const string AddService = "add-service", EditService = "edit-service", DeleteService = "delete-service", Clear = "clear",
        AddReal = "add-real", EditReal = "edit-real", DeleteReal = "delete-real";
}

using System.Text.Json;
using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Core.Model;
using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>
/// Run-time health checks and maintenance (docs/health-checks.md): validates a check body with the config file's rules
/// (<see cref="CheckRules"/>, every error listed), calls the state's typed operation and maps the result to DTOs.
/// </summary>
public sealed class CheckApi(DirectorState state)
{
    public ServiceDto SetServiceCheck(string? proto, string? vip, string? port, JsonElement? body)
    {
        var s = FindService(Key(proto, vip, port));
        var check = Valid(body, new TunLB.Health.CheckSpec(), s.ProtocolName);
        return Dtos.Service(Run(() => state.SetServiceCheck(s.Key, check)));
    }

    public ServiceDto DeleteServiceCheck(string? proto, string? vip, string? port)
    {
        var s = FindService(Key(proto, vip, port));
        return Dtos.Service(Run(() => state.SetServiceCheck(s.Key, null)));
    }

    public RealDto SetRealCheck(string? proto, string? vip, string? port, string? addr, string? rport, JsonElement? body)
    {
        var (s, r) = FindReal(Key(proto, vip, port), addr, rport);
        // As [service.real.check]: keys not given come from the service's check.
        var check = Valid(body, s.HealthSpec.Check, s.ProtocolName);
        return Dtos.Real(Run(() => state.SetRealCheck(s.Key, r.Dest.Address, r.Dest.Port, check)));
    }

    public RealDto DeleteRealCheck(string? proto, string? vip, string? port, string? addr, string? rport)
    {
        var (s, r) = FindReal(Key(proto, vip, port), addr, rport);
        return Dtos.Real(Run(() => state.SetRealCheck(s.Key, r.Dest.Address, r.Dest.Port, null)));
    }

    public RealDto Maintenance(string? proto, string? vip, string? port, string? addr, string? rport, bool on)
    {
        var (s, r) = FindReal(Key(proto, vip, port), addr, rport);
        return Dtos.Real(Run(() => state.SetMaintenance(s.Key, r.Dest.Address, r.Dest.Port, on)));
    }

    private static TunLB.Health.CheckSpec Valid(JsonElement? body, TunLB.Health.CheckSpec defaults, string protocol)
    {
        if (body is not { } b) throw ApiException.BadRequest("type", "required: a JSON object of check keys, as in a [service.check] table (type, path, interval, ...)");
        IReadOnlyList<KeyValuePair<string, string>> values;
        try { values = CheckRules.FromJson(b); }
        catch (FormatException e) { throw ApiException.BadRequest("check", e.Message); }
        var r = CheckRules.Check(values, defaults, protocol);
        if (r.Ok) return r.Value!;
        var first = r.Errors[0];
        throw new ApiException(400, first.Field, first.Message, r.Errors.Count > 1 ? r.Errors.Select(e => e.ToString()).ToArray() : null);
    }

    private static ServiceKey Key(string? proto, string? vip, string? port) =>
        new(Validate.HostAddress(vip, "vip"), Validate.Port(port, "port"), Validate.Protocol(proto));

    private ServiceView FindService(ServiceKey key) => state.View.Find(key)
        ?? throw ApiException.NotFound("vip", $"no service {Validate.ProtocolName(key.Protocol)} {Validate.Endpoint(key.Vip, key.Port)}");

    private (ServiceView, RealView) FindReal(ServiceKey key, string? addr, string? rport)
    {
        var s = FindService(key);
        var a = Validate.HostAddress(addr, "address");
        var p = Validate.Port(rport, "port");
        return (s, s.FindReal(a, p) ?? throw ApiException.NotFound("address", $"no real server {Validate.Endpoint(a, p)} in service {s}"));
    }

    private static T Run<T>(Func<T> op)
    {
        try { return op(); }
        catch (ManagementException e)
        {
            throw new ApiException(e.Error switch { ManagementError.NotFound => 404, ManagementError.Conflict => 409, ManagementError.Unavailable => 503, _ => 400 },
                e.Field, e.Message);
        }
    }
}

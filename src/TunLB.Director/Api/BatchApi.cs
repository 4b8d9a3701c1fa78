using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>
/// POST /api/v1/batch: all or nothing. Under the state lock every operation is first checked, in order, against a
/// model of the services as they would be after the operations before it (the same field rules as the single
/// endpoints); if any is refused, nothing changes and every refusal is listed. Otherwise all are applied and
/// published once (<see cref="DirectorState.Batch"/>).
/// </summary>
public sealed class BatchApi(DirectorApi api)
{
    /// <summary>Most operations one batch takes (a restore file of a large site is a few thousand lines).</summary>
    public const int MaxOps = 100_000;

    private sealed class SimService(ServiceKey key, string scheduler, int persistence)
    {
        public ServiceKey Key = key;
        public string Scheduler = scheduler;
        public int Persistence = persistence;
        public Dictionary<IpAddress, RealServerSettings> Reals = [];
    }

    public BatchResultDto Apply(BatchSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var ops = spec.Ops ?? throw ApiException.BadRequest("ops", "required: ops, a list of operations");
        if (ops.Count > MaxOps) throw ApiException.BadRequest("ops", $"at most {MaxOps} operations in one batch");
        var state = api.State;
        int applied = 0;
        state.Batch(() =>
        {
            var steps = Plan(ops, state.View);
            try
            {
                foreach (var step in steps) { step(); applied++; }
            }
            catch (ApiException e)
            {
                // Only a host refusal (no route to a new real) gets here: the plan checked everything else.
                throw new ApiException(e.Status, e.Field, $"operation {applied + 1}: {e.Message}; the {applied} operation(s) before it were applied");
            }
        });
        return new BatchResultDto(applied);
    }

    /// <summary>Checks every operation; returns the changes to make, or throws listing every refused operation.</summary>
    private List<Action> Plan(IReadOnlyList<BatchOp> ops, DirectorView view)
    {
        var sim = new Dictionary<ServiceKey, SimService>();
        foreach (var s in view.Services)
        {
            var ss = new SimService(s.Key, s.Scheduler, s.PersistenceSeconds);
            foreach (var r in s.Reals)
            {
                var d = r.Dest;
                ss.Reals[d.Address] = new RealServerSettings(d.Address, d.Port, r.ConfiguredWeight, d.UpperThreshold, d.LowerThreshold,
                    d.Encap, d.GuePort, d.GueChecksum, 0);
            }
            sim[s.Key] = ss;
        }
        var state = api.State;
        var steps = new List<Action>();
        var errors = new List<(ApiException E, string Text)>();
        for (int i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            try
            {
                steps.Add(Step(op, sim, state));
            }
            catch (ApiException e)
            {
                errors.Add((e, $"operation {i + 1}{(op?.Line is { } l ? $" (line {l})" : "")}: {e.Message}"));
            }
        }
        if (errors.Count == 0) return steps;
        var first = errors[0];
        throw new ApiException(first.E.Status, first.E.Field,
            $"{errors.Count} of {ops.Count} operation(s) refused, nothing was changed; {first.Text}", errors.Select(e => e.Text).ToArray());
    }

    private static Action Step(BatchOp? op, Dictionary<ServiceKey, SimService> sim, DirectorState state)
    {
        if (op is null) throw ApiException.BadRequest("op", "an operation is null");
        switch (op.Op)
        {
            case BatchOps.AddService:
            {
                var def = DirectorApi.Definition(op.Service ?? throw ApiException.BadRequest("service", "add-service needs service"));
                if (sim.ContainsKey(def.Key)) throw ApiException.Conflict("vip", $"service {Name(def.Key)} already exists");
                sim[def.Key] = new SimService(def.Key, def.Scheduler, def.PersistenceSeconds);
                return () => DirectorApi.Run(() => state.AddService(def));
            }
            case BatchOps.EditService:
            {
                var s = Find(sim, op);
                var change = DirectorApi.Change(op.Service ?? new ServiceSpec(), s.Key, s.Scheduler);
                int persistence = change.PersistenceSeconds ?? s.Persistence;
                if (s.Key.Port == 0 && persistence == 0)
                    throw ApiException.BadRequest("persistence", "a port-0 (all ports) service needs persistence > 0");
                (s.Scheduler, s.Persistence) = (change.Scheduler ?? s.Scheduler, persistence);
                var key = s.Key;
                return () => DirectorApi.Run(() => state.EditService(key, change));
            }
            case BatchOps.DeleteService:
            {
                var key = Find(sim, op).Key;
                sim.Remove(key);
                return () => DirectorApi.Run(() => { state.DeleteService(key); return 0; });
            }
            case BatchOps.Clear:
                sim.Clear();
                return state.Clear;
            case BatchOps.AddReal:
            {
                var s = Find(sim, op);
                var real = DirectorApi.Valid(RealSpecRules.Check(op.Real ?? throw ApiException.BadRequest("real", "add-real needs real"), s.Key.Port));
                if (s.Reals.TryGetValue(real.Address, out var dup))
                    throw ApiException.Conflict("address", $"real server {Validate.Endpoint(dup.Address, dup.Port)} already exists in service {Name(s.Key)} " +
                                                           "(tunnel mode does not rewrite ports, so one address is one server)");
                s.Reals[real.Address] = real;
                var key = s.Key;
                return () => DirectorApi.Run(() => state.AddReal(key, real));
            }
            case BatchOps.EditReal:
            {
                var (s, current) = FindReal(sim, op);
                var change = DirectorApi.RealChangeOf(op.Real ?? new RealSpec(), current);
                s.Reals[current.Address] = current with
                {
                    Weight = change.Weight ?? current.Weight,
                    UpperThreshold = change.UpperThreshold ?? current.UpperThreshold,
                    LowerThreshold = change.LowerThreshold ?? current.LowerThreshold,
                };
                var key = s.Key;
                return () => DirectorApi.Run(() => state.EditReal(key, current.Address, current.Port, change));
            }
            case BatchOps.DeleteReal:
            {
                var (s, current) = FindReal(sim, op);
                s.Reals.Remove(current.Address);
                var key = s.Key;
                return () => DirectorApi.Run(() => { state.DeleteReal(key, current.Address, current.Port); return 0; });
            }
            default:
                throw ApiException.BadRequest("op", $"unknown operation \"{op.Op}\"; known: {BatchOps.AddService} {BatchOps.EditService} " +
                                                    $"{BatchOps.DeleteService} {BatchOps.Clear} {BatchOps.AddReal} {BatchOps.EditReal} {BatchOps.DeleteReal}");
        }
    }

    private static SimService Find(Dictionary<ServiceKey, SimService> sim, BatchOp op)
    {
        var key = new ServiceKey(Validate.HostAddress(op.Vip, "vip"), Validate.Port(op.Port, "port"), Validate.Protocol(op.Protocol));
        return sim.GetValueOrDefault(key) ?? throw ApiException.NotFound("vip", $"no service {Name(key)}");
    }

    private static (SimService, RealServerSettings) FindReal(Dictionary<ServiceKey, SimService> sim, BatchOp op)
    {
        var s = Find(sim, op);
        var a = Validate.HostAddress(op.Address, "address");
        var p = Validate.Port(op.RealPort, "real_port");
        if (s.Reals.TryGetValue(a, out var r) && r.Port == p) return (s, r);
        throw ApiException.NotFound("address", $"no real server {Validate.Endpoint(a, p)} in service {Name(s.Key)}");
    }

    private static string Name(ServiceKey key) => $"{Validate.ProtocolName(key.Protocol)} {Validate.Endpoint(key.Vip, key.Port)}";
}

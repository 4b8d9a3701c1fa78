using TunLB.Control.Api;
using TunLB.Director.Api;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Api;

/// <summary>POST /api/v1/batch's logic: every operation checked against the state it would meet, then all or nothing.</summary>
public class BatchApiTests
{
    private static BatchOp AddService(string vip, int port, string scheduler = "wlc") =>
        new(BatchOps.AddService, Service: new ServiceSpec("tcp", vip, port, scheduler));
    private static BatchOp AddReal(string vip, int port, string real, int? line = null) =>
        new(BatchOps.AddReal, "tcp", vip, port, Real: new RealSpec(real, port, 1), Line: line);

    [Fact]
    public void A_batch_applies_in_order_with_one_publish()
    {
        var state = NewState();
        var api = new DirectorApi(state);
        long version = state.View.Version;
        var result = new BatchApi(api).Apply(new BatchSpec([
            AddService("203.0.113.20", 443, "mh"),
            AddReal("203.0.113.20", 443, "192.0.2.21"),
            AddReal("203.0.113.20", 443, "192.0.2.22"),
            new(BatchOps.EditReal, "tcp", Vip, 80, Real: new RealSpec(Weight: 9), Address: "192.0.2.11", RealPort: 80),
            new(BatchOps.EditService, "tcp", Vip, 80, Service: new ServiceSpec(Scheduler: "wrr")),
        ]));
        Assert.Equal(5, result.Applied);
        Assert.Equal(version + 1, state.View.Version);
        var s = state.View.Services.Single(x => x.Key.Port == 443);
        Assert.Equal("mh", s.Scheduler);
        Assert.Equal(["192.0.2.21", "192.0.2.22"], s.Reals.Select(r => r.Dest.Address.ToString()));
        var web = state.View.Services.Single(x => x.Key.Port == 80);
        Assert.Equal("wrr", web.Scheduler);
        Assert.Equal(9, web.Reals.Single(r => r.Dest.Address.ToString() == "192.0.2.11").Dest.Weight);
        // The new service reached the data path, not only the read model.
        Assert.Equal(3, api.ListServices().Count); // Basic's two and the new one
    }

    [Fact]
    public void One_refused_operation_changes_nothing_and_every_refusal_is_listed()
    {
        var state = NewState();
        var api = new DirectorApi(state);
        var before = ConfigRenderer.Render(state);
        var e = Assert.Throws<ApiException>(() => new BatchApi(api).Apply(new BatchSpec([
            AddService("203.0.113.20", 443),
            AddReal("203.0.113.20", 443, "192.0.2.21", line: 2),
            AddReal("203.0.113.99", 80, "192.0.2.99", line: 3),               // no such service
            AddReal("203.0.113.20", 443, "192.0.2.21", line: 4),              // already added above
            new(BatchOps.DeleteService, "tcp", Vip, 80),
            new(BatchOps.AddReal, "tcp", Vip, 80, Real: new RealSpec("192.0.2.12", 80, 1), Line: 6), // its service is deleted above
            new(BatchOps.AddService, Service: new ServiceSpec("tcp", "203.0.113.30", 80, "lblc")), // not a TunLB scheduler
            new("bogus"),
        ])));
        Assert.Equal(404, e.Status);
        Assert.StartsWith("5 of 8 operation(s) refused, nothing was changed; operation 3 (line 3): no service tcp 203.0.113.99:80", e.Message);
        Assert.Equal(5, e.Details!.Count);
        Assert.StartsWith("operation 4 (line 4): real server 192.0.2.21:443 already exists", e.Details[1]);
        Assert.StartsWith("operation 6 (line 6): no service tcp 203.0.113.10:80", e.Details[2]);
        Assert.StartsWith("operation 7: ", e.Details[3]);
        Assert.StartsWith("operation 8: unknown operation \"bogus\"", e.Details[4]);
        // The header's "# at <time>" line is when it was rendered: a second may have passed between the two (it failed once so).
        Assert.Equal(WithoutTime(before), WithoutTime(ConfigRenderer.Render(state)));
        Assert.Equal(2, state.View.Services.Count); // Basic's two, the port-80 one not deleted
        Assert.Equal(2, state.View.Services.Single(x => x.Key.Port == 80).Reals.Count);
    }

    [Fact]
    public void Clear_then_add_is_checked_against_the_cleared_table()
    {
        var state = NewState();
        new BatchApi(new DirectorApi(state)).Apply(new BatchSpec([
            new(BatchOps.Clear),
            AddService(Vip, 80, "rr"),
            AddReal(Vip, 80, "192.0.2.11"),
        ]));
        Assert.Equal("rr", Assert.Single(state.View.Services).Scheduler);
        Assert.Single(state.View.Services[0].Reals);
    }

    private static string WithoutTime(string rendered) =>
        System.Text.RegularExpressions.Regex.Replace(rendered, @"^# at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;", "# at TIME;", System.Text.RegularExpressions.RegexOptions.Multiline);
}

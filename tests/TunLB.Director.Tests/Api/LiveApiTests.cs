using System.Text;
using TunLB.Control.Configuration;
using TunLB.Director.Api;
using TunLB.Director.Management;

namespace TunLB.Director.Tests.Api;

/// <summary>
/// Tests against the real Kestrel server: before each test the state <see cref="CreateState"/> makes gets its API on a
/// free loopback port and <see cref="Http"/> as its client; after the test both are stopped.
/// </summary>
public abstract class LiveApiTests : IAsyncLifetime
{
    protected DirectorState State { get; private set; } = null!;
    protected ApiServer Server { get; private set; } = null!;
    protected HttpClient Http { get; private set; } = null!;

    protected abstract DirectorState CreateState();

    /// <summary>The API settings of the state's config, on port 0 (a free one); override to add to them.</summary>
    protected virtual DirectorSettings ApiSettings(DirectorSettings s) => s with { ApiPort = 0 };

    public virtual async Task InitializeAsync()
    {
        State = CreateState();
        Server = await ApiServer.StartAsync(State, ApiSettings(State.Settings));
        Http = new HttpClient { BaseAddress = new Uri(Server.BaseAddress) };
    }

    public virtual async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    protected static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}

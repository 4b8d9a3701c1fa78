using System.Text.Json;
using System.Text.RegularExpressions;
using TunLB.Director.Api;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Api;

/// <summary>Runs alone: full collections pause every test of the process, and other tests' allocations blur the heap.</summary>
[CollectionDefinition(nameof(ProcessMetricsTests), DisableParallelization = true)]
public sealed class ProcessMetricsCollection;

/// <summary>The process families of /metrics and POST /api/v1/gc (what the reload storm test measures leaks with).</summary>
[Collection(nameof(ProcessMetricsTests))]
public sealed class ProcessMetricsTests : IAsyncLifetime
{
    private ApiServer _api = null!;
    private HttpClient _http = null!;
    private static byte[]? s_held;

    public async Task InitializeAsync()
    {
        var state = NewState();
        _api = await ApiServer.StartAsync(state, state.Settings with { ApiPort = 0 });
        _http = new HttpClient { BaseAddress = new Uri(_api.BaseAddress) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _api.DisposeAsync();
    }

    private static long Value(string text, string sample)
    {
        var m = Regex.Match(text, "^" + Regex.Escape(sample) + " (\\d+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no sample {sample}");
        return long.Parse(m.Groups[1].Value);
    }

    [Fact]
    public async Task Metrics_show_the_heap_collections_threads_and_descriptors()
    {
        var text = await _http.GetStringAsync("/metrics");
        MetricsFormat.Check(text);
        Assert.True(Value(text, "tunlb_gc_heap_bytes") > 1 << 20);
        Assert.True(Value(text, "tunlb_gc_committed_bytes") > 1 << 20);
        Assert.True(Value(text, "tunlb_gc_heap_after_last_gc_bytes") >= 0);
        for (int g = 0; g <= 2; g++) Assert.True(Value(text, $"tunlb_gc_collections_total{{generation=\"{g}\"}}") >= 0);
        // This test process: its thread and descriptor counts as /proc shows them, give or take the ones starting meanwhile.
        Assert.InRange(Value(text, "tunlb_process_threads"), 2, Directory.GetFileSystemEntries("/proc/self/task").Length + 20);
        Assert.InRange(Value(text, "tunlb_process_open_fds"), 3, Directory.GetFileSystemEntries("/proc/self/fd").Length + 50);
    }

    [Fact]
    public async Task Gc_reports_the_live_heap_after_a_full_collection()
    {
        s_held = new byte[64 << 20];
        Array.Fill(s_held, (byte)1);
        var held = await Collect();
        Assert.True(held.GetProperty("heap_after_bytes").GetInt64() >= 64 << 20, held.ToString());
        Assert.True(held.GetProperty("pause_ms").GetDouble() >= 0);

        s_held = null; // now garbage: the collection frees it
        var freed = await Collect();
        Assert.True(held.GetProperty("heap_after_bytes").GetInt64() - freed.GetProperty("heap_after_bytes").GetInt64() >= 48 << 20,
            $"held {held}, freed {freed}");
    }

    private async Task<JsonElement> Collect()
    {
        var r = await _http.PostAsync("/api/v1/gc", null);
        r.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}

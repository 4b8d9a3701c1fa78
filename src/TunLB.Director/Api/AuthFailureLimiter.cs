using System.Net;

namespace TunLB.Director.Api;

/// <summary>
/// Counts failed API authentications per client address in fixed windows: from the <see cref="MaxFailures"/>th
/// failure on, that address gets 429 until its window ends (a wrong or right token alike), so a token cannot be guessed
/// at request speed. Logs an address's first failure in a window and the moment it is blocked. Bounded: at most
/// <see cref="MaxTracked"/> addresses are tracked; when full, expired windows are swept and, failing that, new
/// addresses share one overflow slot (blocked together).
/// </summary>
public sealed class AuthFailureLimiter
{
    public const int MaxFailures = 10;
    public const int MaxTracked = 4096;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly Dictionary<IPAddress, Slot> _slots = [];
    private static readonly IPAddress s_overflow = IPAddress.IPv6None;

    private sealed class Slot
    {
        public long Start;
        public int Failures;
    }

    public AuthFailureLimiter(TimeProvider time, Action<string> log)
    {
        _time = time;
        _log = log;
    }

    /// <summary>Failed authentications counted since start.</summary>
    public long TotalFailures { get; private set; }

    /// <summary>Requests refused with 429 since start.</summary>
    public long TotalBlocked { get; private set; }

    /// <summary>True when <paramref name="client"/> is blocked now (the caller answers 429); counts the refusal.</summary>
    public bool IsBlocked(IPAddress? client, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        lock (_slots)
        {
            // An address not tracked while the table is full is judged by the overflow slot it would fail into.
            if (!_slots.TryGetValue(Key(client), out var s) && (_slots.Count < MaxTracked || !_slots.TryGetValue(s_overflow, out s))) return false;
            if (Expired(s) || s.Failures < MaxFailures) return false;
            retryAfter = TimeSpan.FromMilliseconds(Math.Max(1000, Window.TotalMilliseconds - (Now - s.Start)));
            TotalBlocked++;
            return true;
        }
    }

    /// <summary>Counts one failed authentication from <paramref name="client"/>.</summary>
    public void Failed(IPAddress? client, string path)
    {
        var key = Key(client);
        lock (_slots)
        {
            TotalFailures++;
            if (!_slots.TryGetValue(key, out var s))
            {
                if (_slots.Count >= MaxTracked) Sweep();
                if (_slots.Count >= MaxTracked) key = s_overflow;
                if (!_slots.TryGetValue(key, out s)) _slots[key] = s = new Slot { Start = Now };
            }
            if (Expired(s)) { s.Start = Now; s.Failures = 0; }
            s.Failures++;
            if (s.Failures == 1)
                _log($"api: authentication failed from {client} ({path}); {MaxFailures} failures within {Window.TotalSeconds:0} s block that address");
            else if (s.Failures == MaxFailures)
                _log($"api: {MaxFailures} authentication failures from {client} within {Window.TotalSeconds:0} s: answering 429 until the window ends");
        }
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();
    private bool Expired(Slot s) => Now - s.Start >= Window.TotalMilliseconds;
    private IPAddress Key(IPAddress? client) => client is null ? s_overflow : client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;

    private void Sweep()
    {
        foreach (var (k, s) in _slots)
            if (Expired(s)) _slots.Remove(k);
    }
}

namespace TunLB.Core.Scheduling;

/// <summary>
/// Options for <see cref="SchedulerFactory.Create"/>. <paramref name="Flags"/> are the ipvsadm
/// scheduler flags (-b): sh-fallback, sh-port, mh-fallback, mh-port. Flags that belong to another
/// scheduler are ignored, as ipvsadm users would expect; unknown flag names are rejected.
/// </summary>
public sealed record SchedulerOptions(int MaglevTableSize = 65537, IReadOnlySet<string>? Flags = null)
{
    public static SchedulerOptions Default { get; } = new();

    public bool HasFlag(string flag) => Flags is not null && Flags.Contains(flag);
}

/// <summary>Creates schedulers by their ipvsadm names. Control plane only.</summary>
public static class SchedulerFactory
{
    public const string RoundRobin = "rr";
    public const string WeightedRoundRobin = "wrr";
    public const string LeastConnection = "lc";
    public const string WeightedLeastConnection = "wlc";
    public const string SourceHashing = "sh";
    public const string DestinationHashing = "dh";
    public const string MaglevHashing = "mh";
    public const string ShortestExpectedDelay = "sed";
    public const string NeverQueue = "nq";

    public const string FlagShFallback = "sh-fallback";
    public const string FlagShPort = "sh-port";
    public const string FlagMhFallback = "mh-fallback";
    public const string FlagMhPort = "mh-port";

    /// <summary>Default Maglev table size (the IPVS default, a prime).</summary>
    public const int DefaultMaglevTableSize = 65537;
    /// <summary>Largest accepted Maglev table size; the table is an int per slot.</summary>
    public const int MaxMaglevTableSize = 1 << 24;

    private static readonly string[] s_names =
        [RoundRobin, WeightedRoundRobin, LeastConnection, WeightedLeastConnection, SourceHashing, DestinationHashing, MaglevHashing,
         ShortestExpectedDelay, NeverQueue];

    private static readonly string[] s_flags = [FlagShFallback, FlagShPort, FlagMhFallback, FlagMhPort];

    /// <summary>All scheduler names, in ipvsadm's usual order.</summary>
    public static IReadOnlyList<string> Names => s_names;

    /// <summary>All scheduler flag names.</summary>
    public static IReadOnlyList<string> FlagNames => s_flags;

    /// <summary>Whether <paramref name="name"/> is a scheduler name (exact, lower case, as ipvsadm).</summary>
    public static bool IsKnown(string? name) => name is not null && Array.IndexOf(s_names, name) >= 0;

    /// <summary>Creates a new scheduler instance. Throws <see cref="ArgumentException"/> for a bad name, flag or table size.</summary>
    public static IScheduler Create(string name, SchedulerOptions? options = null)
    {
        options ??= SchedulerOptions.Default;
        if (options.Flags is not null)
        {
            foreach (string f in options.Flags)
            {
                if (Array.IndexOf(s_flags, f) < 0)
                    throw new ArgumentException(
                        $"Unknown scheduler flag '{f}'. Known flags: {string.Join(", ", s_flags)}.", nameof(options));
            }
        }

        switch (name)
        {
            case RoundRobin: return new RoundRobinScheduler();
            case WeightedRoundRobin: return new WeightedRoundRobinScheduler();
            case LeastConnection: return new LeastConnectionScheduler();
            case WeightedLeastConnection: return new WeightedLeastConnectionScheduler();
            case ShortestExpectedDelay: return new ShortestExpectedDelayScheduler(neverQueue: false);
            case NeverQueue: return new ShortestExpectedDelayScheduler(neverQueue: true);
            case SourceHashing:
                return new SourceHashScheduler(options.HasFlag(FlagShPort), options.HasFlag(FlagShFallback));
            case DestinationHashing:
                return new DestinationHashScheduler();
            case MaglevHashing:
                ValidateMaglevTableSize(options.MaglevTableSize);
                return new MaglevScheduler(options.MaglevTableSize, options.HasFlag(FlagMhPort), options.HasFlag(FlagMhFallback));
            default:
                throw new ArgumentException(
                    $"Unknown scheduler '{name}'. Known schedulers: {string.Join(", ", s_names)}.", nameof(name));
        }
    }

    /// <summary>Throws unless <paramref name="size"/> is a prime in [2, <see cref="MaxMaglevTableSize"/>].</summary>
    public static void ValidateMaglevTableSize(int size)
    {
        if (size < 2 || size > MaxMaglevTableSize || !IsPrime(size))
            throw new ArgumentException(
                $"Maglev table size {size} is invalid: it must be a prime no larger than {MaxMaglevTableSize} " +
                "(for example 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 65537, 131071).", "MaglevTableSize");
    }

    /// <summary>Deterministic primality test by trial division (fine for config values).</summary>
    public static bool IsPrime(int n)
    {
        if (n < 2) return false;
        if (n < 4) return true;
        if ((n & 1) == 0 || n % 3 == 0) return false;
        // Check 6k +/- 1 up to sqrt(n); long arithmetic avoids overflow near int.MaxValue.
        for (long i = 5; i * i <= n; i += 6)
        {
            if (n % i == 0 || n % (i + 2) == 0) return false;
        }
        return true;
    }
}

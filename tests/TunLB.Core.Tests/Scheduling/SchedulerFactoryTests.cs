using TunLB.Core.Scheduling;

namespace TunLB.Core.Tests.Scheduling;

public class SchedulerFactoryTests
{
    [Fact]
    public void Names_are_the_ipvsadm_names_and_all_create()
    {
        Assert.Equal(["rr", "wrr", "lc", "wlc", "sh", "dh", "mh", "sed", "nq"], SchedulerFactory.Names);
        foreach (string name in SchedulerFactory.Names)
        {
            Assert.True(SchedulerFactory.IsKnown(name));
            IScheduler s = SchedulerFactory.Create(name, new SchedulerOptions());
            Assert.Equal(name, s.Name);
            Assert.Equal(name is "sh" or "dh" or "mh", s.IsConsistentHash);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("RR")]
    [InlineData("lblc")]
    [InlineData("maglev")]
    public void Unknown_name_is_rejected_with_a_clear_message(string name)
    {
        Assert.False(SchedulerFactory.IsKnown(name));
        var ex = Assert.Throws<ArgumentException>(() => SchedulerFactory.Create(name, new SchedulerOptions()));
        Assert.Contains($"'{name}'", ex.Message);
        Assert.Contains("rr, wrr, lc, wlc, sh, dh, mh", ex.Message);
    }

    [Fact]
    public void Unknown_flag_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            SchedulerFactory.Create("sh", new SchedulerOptions(Flags: new HashSet<string> { "sh-prot" })));
        Assert.Contains("sh-prot", ex.Message);
    }

    [Fact]
    public void Flags_reach_the_schedulers()
    {
        var sh = (SourceHashScheduler)SchedTestUtil.Create("sh", 65537, "sh-port", "sh-fallback");
        Assert.True(sh.HashesPort);
        Assert.True(sh.Fallback);
        var sh0 = (SourceHashScheduler)SchedTestUtil.Create("sh");
        Assert.False(sh0.HashesPort);
        Assert.False(sh0.Fallback);
        var mh = (MaglevScheduler)SchedTestUtil.Create("mh", 251, "mh-port", "mh-fallback");
        Assert.True(mh.HashesPort);
        Assert.True(mh.Fallback);
        Assert.Equal(251, mh.TableSize);
        // Another scheduler's flag is accepted and ignored.
        var mh0 = (MaglevScheduler)SchedTestUtil.Create("mh", 65537, "sh-port");
        Assert.False(mh0.HashesPort);
    }

    [Theory]
    [InlineData(251)]
    [InlineData(509)]
    [InlineData(1021)]
    [InlineData(2039)]
    [InlineData(4093)]
    [InlineData(8191)]
    [InlineData(16381)]
    [InlineData(32749)]
    [InlineData(65521)]
    [InlineData(65537)]
    [InlineData(131071)]
    public void Maglev_accepts_prime_sizes(int m)
    {
        Assert.True(SchedulerFactory.IsPrime(m));
        var mh = (MaglevScheduler)SchedulerFactory.Create("mh", new SchedulerOptions(m));
        Assert.Equal(m, mh.Current.Table.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-7)]
    [InlineData(256)]
    [InlineData(65536)]
    [InlineData(65535)]
    [InlineData(1 << 25)]
    public void Maglev_rejects_non_prime_or_huge_sizes(int m)
    {
        var ex = Assert.Throws<ArgumentException>(() => SchedulerFactory.Create("mh", new SchedulerOptions(m)));
        Assert.Contains(m.ToString(), ex.Message);
    }

    [Fact]
    public void Table_size_is_only_validated_for_mh()
    {
        Assert.Equal("rr", SchedulerFactory.Create("rr", new SchedulerOptions(4)).Name);
    }

    [Fact]
    public void IsPrime_matches_a_sieve()
    {
        const int limit = 20000;
        var composite = new bool[limit];
        for (int i = 2; i < limit; i++)
            if (!composite[i])
                for (int j = i * 2; j < limit; j += i) composite[j] = true;
        for (int i = -5; i < limit; i++)
            Assert.Equal(i >= 2 && !composite[i], SchedulerFactory.IsPrime(i));
        Assert.True(SchedulerFactory.IsPrime(int.MaxValue)); // 2^31-1 is a Mersenne prime
        Assert.False(SchedulerFactory.IsPrime(int.MaxValue - 2));
        Assert.False(SchedulerFactory.IsPrime(46337 * 46337)); // square of a prime near the int limit
    }
}

namespace TunLB.Linux.Tests;

/// <summary>The CPU choice and the sysfs bitmap text of <see cref="RpsSteering"/>.</summary>
public class RpsSteeringTests
{
    private static readonly int[] Two = [0, 1], Four = [0, 1, 2, 3];

    [Fact]
    public void One_cpu_means_no_steering() => Assert.Empty(RpsSteering.AutoCpus([0], new HashSet<int> { 0 }));

    [Fact]
    public void An_unpinned_agent_steers_to_every_cpu() => Assert.Equal(Four, RpsSteering.AutoCpus(Four, Four.ToHashSet()));

    [Fact]
    public void A_pinned_agent_steers_to_the_other_cpus()
    {
        Assert.Equal([1], RpsSteering.AutoCpus(Two, new HashSet<int> { 0 }));
        Assert.Equal([0, 3], RpsSteering.AutoCpus(Four, new HashSet<int> { 1, 2 }));
    }

    [Theory]
    [InlineData(new int[0], "0")]
    [InlineData(new[] { 0 }, "1")]
    [InlineData(new[] { 1 }, "2")]
    [InlineData(new[] { 0, 1, 2, 3 }, "f")]
    [InlineData(new[] { 31 }, "80000000")]
    [InlineData(new[] { 32 }, "1,00000000")]
    [InlineData(new[] { 1, 33, 70 }, "40,00000002,00000002")]
    public void Masks_are_written_as_the_kernel_prints_them(int[] cpus, string mask) => Assert.Equal(mask, RpsSteering.Mask(cpus));

    [Theory]
    [InlineData("0", true)]
    [InlineData("00000000,00000000\n", true)]
    [InlineData("2", false)]
    [InlineData("00000001,00000000", false)]
    public void Empty_masks_are_recognised(string mask, bool empty) => Assert.Equal(empty, RpsSteering.IsEmpty(mask));

    [Theory]
    [InlineData("0\n", new[] { 0 })]
    [InlineData("0-3", new[] { 0, 1, 2, 3 })]
    [InlineData("0-1,4,6-7", new[] { 0, 1, 4, 6, 7 })]
    public void Cpu_lists_are_parsed(string text, int[] cpus) => Assert.Equal(cpus, RpsSteering.ParseCpuList(text));
}

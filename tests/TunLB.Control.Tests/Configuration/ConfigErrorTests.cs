using TunLB.Control.Configuration;

namespace TunLB.Control.Tests.Configuration;

public class ConfigErrorTests
{
    [Fact]
    public void ToString_is_file_line_column_key_message()
    {
        var e = new ConfigError("director.toml", 12, 3, "service[0].port", "required key is missing");
        Assert.Equal("director.toml:12:3: service[0].port: required key is missing", e.ToString());
    }

    [Fact]
    public void ToString_leaves_out_what_is_not_known()
    {
        Assert.Equal("a.toml:2:5: syntax", new ConfigError("a.toml", 2, 5, "", "syntax").ToString());
        Assert.Equal("a.toml: gone", new ConfigError("a.toml", 0, 0, "", "gone").ToString());
    }

    [Fact]
    public void Exception_message_lists_every_error_on_its_own_line()
    {
        var ex = new ConfigException([new ConfigError("f", 1, 1, "a", "x"), new ConfigError("f", 2, 1, "b", "y")]);
        Assert.Equal("f:1:1: a: x\nf:2:1: b: y", ex.Message);
        Assert.Equal(2, ex.Errors.Count);
    }

    [Fact]
    public void Exception_needs_errors() =>
        Assert.Throws<ArgumentException>(() => new ConfigException([]));

    [Theory]
    [InlineData("weight", "wieght", 1)]
    [InlineData("weight", "weigth", 1)]
    [InlineData("weight", "wt", 4)]
    [InlineData("", "abc", 3)]
    [InlineData("same", "same", 0)]
    public void Edit_distance(string a, string b, int d) => Assert.Equal(d, ConfigText.EditDistance(a, b));

    [Theory]
    [InlineData(2, true)]
    [InlineData(251, true)]
    [InlineData(65537, true)]
    [InlineData(16_777_213, true)]
    [InlineData(65536, false)]
    [InlineData(1, false)]
    [InlineData(9, false)]
    public void Primes(long n, bool prime) => Assert.Equal(prime, ConfigText.IsPrime(n));
}

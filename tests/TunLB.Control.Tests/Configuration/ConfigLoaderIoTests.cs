using TunLB.Control.Configuration;
using static TunLB.Control.Tests.Configuration.ConfigLoaderDirectorTests;

namespace TunLB.Control.Tests.Configuration;

/// <summary>[director] io and capture_interfaces.</summary>
public class ConfigLoaderIoTests
{
    private const string Service = "\n[[service]]\nvip = \"203.0.113.10\"\nport = 80\n";

    [Fact]
    public void Io_defaults_to_auto_without_capture_interfaces()
    {
        var c = ConfigLoader.ParseDirector("[director]\n" + Service, "director.toml");
        Assert.Equal(IoBackend.Auto, c.Director.Io);
        Assert.Empty(c.Director.CaptureInterfaces);
    }

    [Fact]
    public void Tun_is_read()
    {
        var c = ConfigLoader.ParseDirector("[director]\nio = \"tun\"\n" + Service, "director.toml");
        Assert.Equal(IoBackend.Tun, c.Director.Io);
        Assert.Empty(c.Director.CaptureInterfaces);
    }

    [Fact]
    public void Xdp_and_auto_take_capture_interfaces()
    {
        var c = ConfigLoader.ParseDirector("[director]\nio = \"xdp\"\ncapture_interfaces = [\"eth0\"]\n" + Service, "director.toml");
        Assert.Equal(IoBackend.Xdp, c.Director.Io);
        Assert.Equal(["eth0"], c.Director.CaptureInterfaces);
        c = ConfigLoader.ParseDirector("[director]\ncapture_interfaces = [\"eth1\"]\n" + Service, "director.toml");
        Assert.Equal(IoBackend.Auto, c.Director.Io);
        Assert.Equal(["eth1"], c.Director.CaptureInterfaces);
    }

    [Fact]
    public void Afpacket_with_capture_interfaces_is_read()
    {
        var c = ConfigLoader.ParseDirector("[director]\nio = \"afpacket\"\ncapture_interfaces = [\"eth0\", \"veth-up.1\"]\n" + Service, "director.toml");
        Assert.Equal(IoBackend.AfPacket, c.Director.Io);
        Assert.Equal(["eth0", "veth-up.1"], c.Director.CaptureInterfaces);
    }

    [Fact]
    public void Unknown_io_names_the_key_line_and_choices()
    {
        var e = Single("[director]\nttl = 64\nio = \"af_packet\"\n" + Service);
        Assert.Equal(("director.io", 3), (e.Key, e.Line));
        Assert.Contains("known: tun afpacket", e.Message);
        Assert.Contains("did you mean \"afpacket\"", e.Message);
    }

    [Fact]
    public void Capture_interfaces_need_afpacket()
    {
        var e = Single("[director]\ncapture_interfaces = [\"eth0\"]\nio = \"tun\"\n" + Service);
        Assert.Equal(("director.capture_interfaces", 2), (e.Key, e.Line));
        Assert.Contains("io = \"afpacket\"", e.Message);
    }

    [Theory]
    [InlineData("[\"eth0\", 5]", "director.capture_interfaces[1]", "expected an interface name")]
    [InlineData("[\"eth0\", \"eth0\"]", "director.capture_interfaces[1]", "listed twice")]
    [InlineData("[\"this-name-is-too-long\"]", "director.capture_interfaces[0]", "")]
    [InlineData("\"eth0\"", "director.capture_interfaces", "array")]
    public void Bad_capture_interfaces_are_reported(string value, string key, string message)
    {
        var e = Single($"[director]\nio = \"afpacket\"\ncapture_interfaces = {value}\n" + Service);
        Assert.Equal((key, 3), (e.Key, e.Line));
        Assert.Contains(message, e.Message);
    }
}

namespace TunLB.Tests.Shared;

/// <summary>
/// Director configs shared by the director's tests (<c>Fixtures.Basic</c>) and the management API fuzz target
/// (fuzz/TunLB.Fuzz), which builds on the same two services.
/// </summary>
internal static class DirectorConfigs
{
    /// <summary>TCP 203.0.113.10:80, round robin, two real servers; the last line is the second real's address.</summary>
    public const string WebService = """
        [[service]]
        vip = "203.0.113.10"
        port = 80
        protocol = "tcp"
        scheduler = "rr"

        [[service.real]]
        address = "192.0.2.11"

        [[service.real]]
        address = "192.0.2.12"
        """;

    /// <summary>UDP 203.0.113.10:53, Maglev with the port in the hash, one real server of weight 2.</summary>
    public const string DnsService = """
        [[service]]
        vip = "203.0.113.10"
        port = 53
        protocol = "udp"
        scheduler = "mh"
        scheduler_flags = ["mh-port"]
        mh_table_size = 251

        [[service.real]]
        address = "192.0.2.21"
        weight = 2
        """;

    /// <summary>The API on 127.0.0.1:9400, a connection table of 1000, and the two services.</summary>
    public const string Basic = $"""
        [director]
        api = "127.0.0.1:9400"
        conn_max = 1000

        {WebService}

        {DnsService}
        """;
}

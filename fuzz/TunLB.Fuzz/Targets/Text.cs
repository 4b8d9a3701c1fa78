using System.Text;

namespace TunLB.Fuzz.Targets;

internal static class Text
{
    // Invalid UTF-8 becomes U+FFFD, as File.ReadAllText does for a config file.
    public static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}

using System.Globalization;
using System.Text;

namespace TunLB.LabBench;

/// <summary>A Markdown text being written: lines and invariant-culture numbers.</summary>
public sealed class Md
{
    private readonly StringBuilder _sb = new();
    public void L(string s = "") => _sb.Append(s).Append('\n');
    public static string F(double v, string fmt = "N0") => v.ToString(fmt, CultureInfo.InvariantCulture);
    public override string ToString() => _sb.ToString();
}

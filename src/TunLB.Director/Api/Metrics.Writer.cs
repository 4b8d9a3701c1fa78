using System.Globalization;
using System.Text;

namespace TunLB.Director.Api;

public static partial class Metrics
{
    /// <summary>
    /// Writes families of the text format: a family's HELP and TYPE lines, then its samples. <see cref="Counter(string, string, long)"/>
    /// and <see cref="Gauge(string, string, long)"/> write a whole family in one call, one sample or one per item.
    /// </summary>
    internal sealed class Writer
    {
        private readonly StringBuilder _sb = new();
        private string _name = "";

        public void Counter(string name, string help, long value) => Single(name, "counter", help, value);
        public void Gauge(string name, string help, long value) => Single(name, "gauge", help, value);

        public void Counter<T>(string name, string help, IEnumerable<T> items, Func<T, string> labels, Func<T, long> value) =>
            Labelled(name, "counter", help, items, labels, value);

        public void Gauge<T>(string name, string help, IEnumerable<T> items, Func<T, string> labels, Func<T, long> value) =>
            Labelled(name, "gauge", help, items, labels, value);

        public void Gauge<T>(string name, string help, IEnumerable<T> items, Func<T, string> labels, Func<T, double> value)
        {
            Family(name, "gauge", help);
            foreach (var i in items) Sample(labels(i), value(i));
        }

        public void Family(string name, string type, string help)
        {
            _name = name;
            _sb.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
            _sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        }

        public void Sample(string labels, long value) =>
            _sb.Append(_name).Append(labels).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

        public void Sample(string labels, double value) =>
            _sb.Append(_name).Append(labels).Append(' ').Append(value.ToString("0.######", CultureInfo.InvariantCulture)).Append('\n');

        public override string ToString() => _sb.ToString();

        private void Single(string name, string type, string help, long value)
        {
            Family(name, type, help);
            Sample("", value);
        }

        private void Labelled<T>(string name, string type, string help, IEnumerable<T> items, Func<T, string> labels, Func<T, long> value)
        {
            Family(name, type, help);
            foreach (var i in items) Sample(labels(i), value(i));
        }
    }
}

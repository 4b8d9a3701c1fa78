using System.Text;

namespace TunLB.Tests.Shared;

/// <summary>
/// Writes the C program a layout test compiles with <see cref="CHeaderValues"/>: one <c>name=value</c> line per struct
/// size (<c>sizeof(name)</c>), field offset (<c>offsetof(name.field)</c>) and constant, with the includes given.
/// </summary>
internal sealed class CLayoutProgram
{
    private readonly string[] _headers;
    private readonly StringBuilder _body = new();

    public CLayoutProgram(params string[] headers) => _headers = headers;

    /// <summary><c>struct name</c>'s size and the offset of each of <paramref name="fields"/>.</summary>
    public CLayoutProgram Struct(string name, params string[] fields)
    {
        Value($"sizeof({name})", $"sizeof(struct {name})");
        foreach (var f in fields) Value($"offsetof({name}.{f})", $"offsetof(struct {name}, {f})");
        return this;
    }

    /// <summary>Each expression (a macro, or macros joined by |), printed under its own text.</summary>
    public CLayoutProgram Constants(params string[] expressions)
    {
        foreach (var e in expressions) Value(e, e);
        return this;
    }

    public CLayoutProgram Value(string name, string expression)
    {
        _body.Append("    P(\"").Append(name).Append("\", ").Append(expression).Append(");\n");
        return this;
    }

    public override string ToString()
    {
        var c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n");
        foreach (var h in _headers) c.Append("#include <").Append(h).Append(">\n");
        c.Append("\n#define P(name, value) printf(\"%s=%ld\\n\", name, (long)(value))\nint main(void) {\n");
        return c.Append(_body).Append("    return 0;\n}\n").ToString();
    }
}

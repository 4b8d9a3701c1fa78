namespace TunLB.Core.Sync;

/// <summary>
/// Fills one sync message with records (up to <see cref="SyncCodec.MaxMessageSize"/> bytes or 255 records) and seals
/// it with the MAC. Reused: <see cref="Reset"/> starts the next message in the same buffer.
/// </summary>
public sealed class SyncMessageBuilder
{
    private readonly byte[] _buffer = new byte[SyncCodec.MaxMessageSize + SyncCodec.MacSize];
    private readonly byte[] _key;
    private readonly byte _syncId;
    private int _size = SyncCodec.HeaderSize;
    private int _count;

    public SyncMessageBuilder(ReadOnlySpan<byte> key, byte syncId)
    {
        if (key.IsEmpty) throw new ArgumentException("the sync key is empty", nameof(key));
        _key = key.ToArray();
        _syncId = syncId;
    }

    public int Count => _count;

    public void Reset()
    {
        _size = SyncCodec.HeaderSize;
        _count = 0;
    }

    /// <summary>Adds a record; false when it does not fit (send this message, <see cref="Reset"/>, add again).</summary>
    public bool TryAdd(in SyncRecord r)
    {
        int need = SyncCodec.RecordSize(r.IsV6);
        if (_count == 255 || _size + need > SyncCodec.MaxMessageSize) return false;
        _size += SyncCodec.WriteRecord(_buffer.AsSpan(_size), r);
        _count++;
        return true;
    }

    /// <summary>Writes the header and MAC; the datagram to send (valid until the next change).</summary>
    public ReadOnlyMemory<byte> Seal(SyncMessageKind kind = SyncMessageKind.Connections)
    {
        SyncCodec.WriteHeader(_buffer, _syncId, kind, _count, _size);
        int n = SyncCodec.Seal(_buffer, _size, _key);
        return _buffer.AsMemory(0, n);
    }

    /// <summary>A message without records (<see cref="SyncMessageKind.BulkRequest"/>, <see cref="SyncMessageKind.BulkEnd"/>).</summary>
    public ReadOnlyMemory<byte> Control(SyncMessageKind kind)
    {
        Reset();
        return Seal(kind);
    }
}

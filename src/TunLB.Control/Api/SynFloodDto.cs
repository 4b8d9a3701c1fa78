namespace TunLB.Control.Api;

/// <summary>The SYN flood defence (docs/robustness.md), summed over the workers.</summary>
/// <param name="DefenceActive">Workers whose defence is engaged now.</param>
/// <param name="Engagements">Times a worker's defence engaged.</param>
/// <param name="EvictedHalfOpen">Half-open (SYN_RECV) entries evicted to make room.</param>
/// <param name="HalfOpen">Half-open entries in the tables now.</param>
/// <param name="StatelessScheduled">SYNs forwarded by flow hash without an entry.</param>
/// <param name="StatelessAdopted">Handshake-completing segments scheduled by the same hash and inserted.</param>
public sealed record SynFloodDto(int DefenceActive, long Engagements, long EvictedHalfOpen, int HalfOpen, long StatelessScheduled, long StatelessAdopted);

namespace TunLB.Linux.Xdp;

/// <summary>struct xdp_statistics of one AF_XDP socket: packets the kernel could not deliver to it or take from it.</summary>
public readonly record struct XskStatistics(long RxDropped, long RxInvalidDescriptors, long TxInvalidDescriptors,
    long RxRingFull, long RxFillRingEmpty, long TxRingEmpty);

namespace TunLB.Director.Management;

// Several changes under one lock hold and one publish (POST /api/v1/batch): the data path and the read model go from
// the state before the batch to the state after it, never through the steps between.
public sealed partial class DirectorState
{
    private int _batchDepth;

    /// <summary>Inside a batch the operations change the working copy only; the batch publishes once at its end.</summary>
    private bool InBatch => _batchDepth > 0;

    /// <summary>
    /// Runs <paramref name="body"/> under the state lock; the operations it calls publish nothing until it returns
    /// (also when it throws: what it did is then published). Callers check everything before they change anything.
    /// </summary>
    public void Batch(Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        lock (_gate)
        {
            _batchDepth++;
            try { body(); }
            finally
            {
                _batchDepth--;
                if (_batchDepth == 0) _view = Publish();
            }
        }
        NotifyVips();
    }
}

// End-to-end tests build network namespaces and run real processes; they run one at a time so that
// timing-sensitive checks are not starved on a 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

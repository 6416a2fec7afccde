import Collectives

extension CommKind {
    /// Builds this kind's combiner; `scope` `.params` puts the parameters once per node in
    /// shared memory where the kind allows it (reduce-scatter; not allreduce), and
    /// `.gradientsAndParams` also shards the gradient. Collective over `topology.world`.
    public func makeCombiner(layout: ShardLayout, topology: Topology,
                             buckets: BucketPlan, overlap requested: Bool, scope: ShardScope = .stateOnly) throws -> GradientCombiner {
        let world = topology.world
        // One rank has nothing to overlap: its combine is a local norm pass, run once on the pool.
        let overlap = requested && world.size > 1
        switch self {
        case .allreduce:
            return AllreduceCombiner(layout: layout, comm: world, buckets: buckets, overlap: overlap)
        case .reduceScatter:
            do {
                return try SharedMemoryCombiner(layout: layout, topology: topology, buckets: buckets, overlap: overlap,
                                                scope: scope)
            } catch var error as SharedWindowAllocationError {
                error.hint = "the model is too large for this node's memory; use a smaller model "
                    + "(--hidden), fewer ranks per node, nodes with more memory, or --comm allreduce (private memory)"
                throw error
            }
        }
    }
}

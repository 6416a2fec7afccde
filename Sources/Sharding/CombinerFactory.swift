import Collectives

extension CommKind {
    /// Builds this kind's combiner; `scope == .params` puts the parameters once per node in
    /// shared memory where the kind allows it (reduce-scatter; not allreduce). Collective over `world`; `node` is `world.splitByNode()`.
    public func makeCombiner(layout: ShardLayout, world: Communicator, node: Communicator,
                             buckets: BucketPlan, overlap: Bool, scope: ShardScope = .stateOnly) throws -> GradientCombiner {
        switch self {
        case .allreduce:
            return AllreduceCombiner(layout: layout, comm: world, buckets: buckets, overlap: overlap)
        case .reduceScatter:
            return try SharedMemoryCombiner(layout: layout, world: world, node: node, buckets: buckets, overlap: overlap,
                                            sharedParams: scope == .params)
        }
    }
}

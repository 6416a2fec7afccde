import Collectives

extension CommKind {
    /// Builds this kind's combiner. Collective over `world`; `node` is `world.splitByNode()`.
    public func makeCombiner(layout: ShardLayout, world: Communicator, node: Communicator,
                             buckets: BucketPlan, overlap: Bool) throws -> GradientCombiner {
        switch self {
        case .allreduce:
            return AllreduceCombiner(layout: layout, comm: world, buckets: buckets, overlap: overlap)
        case .reduceScatter:
            return try SharedMemoryCombiner(layout: layout, world: world, node: node, buckets: buckets, overlap: overlap)
        }
    }
}

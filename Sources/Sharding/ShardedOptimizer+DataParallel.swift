import Basics

/// The sharded optimizer through the trainer's interface; buffers and buckets are its combiner's.
extension ShardedOptimizer: DataParallelOptimizer {
    public var params: UnsafeMutablePointer<Float> { combiner.params }
    public var gradients: any GradientSink { combiner.gradients }
    public var flatGradients: UnsafeMutablePointer<Float>? { combiner.flatGradients }
    public var buckets: BucketPlan { combiner.buckets }
    public var sharesParams: Bool { combiner.sharesParams }
    public var description: String { combiner.description }
    public var heldBytes: (parameters: Int, gradients: Int) { combiner.heldBytes }
    public var state: OptimizerStateSlice {
        OptimizerStateSlice(optimizer: optimizer, perRank: false)
    }

    public func bucketReady(_ index: Int) throws { try combiner.bucketReady(index) }
    public func paramsWritten() throws { try combiner.paramsWritten() }
}

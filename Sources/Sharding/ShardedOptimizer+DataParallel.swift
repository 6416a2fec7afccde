/// The sharded optimizer through the trainer's interface; buffers and buckets are its combiner's.
extension ShardedOptimizer: DataParallelOptimizer {
    public var params: UnsafeMutablePointer<Float> { combiner.params }
    public var grads: UnsafeMutablePointer<Float> { combiner.grads }
    public var buckets: BucketPlan { combiner.buckets }
    public var sharesParams: Bool { combiner.sharesParams }
    public var description: String { combiner.description }
    public var heldBytes: (parameters: Int, gradients: Int) { combiner.heldBytes }
    public var state: OptimizerStateSlice {
        OptimizerStateSlice(optimizer: optimizer, perRank: false)
    }

    public func bucketReady(_ index: Int) throws { try combiner.bucketReady(index) }
    public func paramsWritten() throws { try combiner.paramsWritten() }

    public func step(lr: Float, riders: inout [Double]) throws -> StepOutcome {
        try step(params: combiner.params, grads: combiner.grads, lr: lr, riders: &riders)
    }
}

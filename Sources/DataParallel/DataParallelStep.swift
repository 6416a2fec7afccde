import Basics
import Collectives
import LionEngine
import Model
import Sharding
import SignVote

/// The one owner of the data-parallel step: it builds the shard layout, the bucket plan, the
/// parameter groups, the thread pool and the exchange (a combiner under the sharded optimizer,
/// or sign-vote Lion) once, and runs every step through them. The trainer's loop and the
/// library's `DistributedOptimizer` are thin faces of it.
///
/// One step, top to bottom:
/// 1. backward reads `parameters` and writes this rank's mean gradient into `gradients`,
///    calling `segmentDone(i)` as each segment is final (its bucket may start to move);
/// 2. `step(lr:sums:)`: combine (or vote), ONE scalar allreduce of the norm and the caller's
///    `sums` (losses, counts, the stop flag), update this rank's shard, gather.
public final class DataParallelStep {
    /// The model's tensors; they tile `[0, parameterCount)`.
    public let tensors: [ParameterTensor]
    public let parameterCount: Int
    public let layout: ShardLayout
    public let settings: StepSettings
    public let topology: Topology
    /// The threads of this rank's update.
    public let pool: ThreadPool
    /// The engine's groups over `[0, layout.paddedCount)`.
    public let groups: [ParameterGroup]
    /// The sharded optimizer over its combiner, or sign-vote Lion.
    public let optimizer: any DataParallelOptimizer

    /// Collective over `topology.world`: every rank calls it with the same arguments. The
    /// parameters start at zero (sign-vote, allreduce) or as the shared window left them: write
    /// them (the same on every rank), then `paramsWritten()`, before the first step.
    ///
    /// - Parameters:
    ///   - tensors: the model's tensors (they must tile the buffer from 0).
    ///   - segments: what backward finishes, last first (buckets follow them); nil: one bucket.
    ///   - groups: tensors with their own lr multiplier, decay or betas.
    ///   - engineDecay: turns a weight decay as the caller states it (the groups', and
    ///     `userWeightDecay`) into the engine's per unit of scheduled lr; identity by default.
    ///   - userWeightDecay: the decay of tensors that decay, as the caller states it; nil:
    ///     `settings.optimizer.weightDecay` (already the engine's).
    ///   - threads: threads of the update's pool.
    public init(tensors: [ParameterTensor], segments: [Range<Int>]? = nil, settings: StepSettings,
                groups tensorGroups: [TensorGroup] = [], engineDecay: (Float) -> Float = { $0 }, userWeightDecay: Float? = nil,
                threads: Int, topology: Topology) throws {
        let world = topology.world
        self.tensors = tensors
        parameterCount = tensors.map(\.count).reduce(0, +)
        self.settings = settings
        self.topology = topology
        let layout = ShardLayout(count: parameterCount, worldSize: world.size)
        self.layout = layout
        let count = parameterCount
        let buckets = settings.bucketElements.map {
            BucketPlan(layers: segments ?? [0..<count], paddedCount: layout.paddedCount, bucketElements: $0)
        } ?? .single(paddedCount: layout.paddedCount)
        groups = try TensorGroup.engineGroups(tensorGroups, tensors: tensors,
                                              weightDecay: userWeightDecay ?? settings.optimizer.weightDecay,
                                              engineDecay: engineDecay, paddedCount: layout.paddedCount)
        pool = ComputeThreads.pool(threads: threads)
        let config = settings.optimizer
        switch settings.exchange {
        case .signVote(let rule):
            try SignVoteSettings.check(optimizer: config, worldSize: world.size)
            optimizer = SignVoteOptimizer(layout: layout, config: config, clipNorm: settings.clipNorm, comm: world, pool: pool,
                                          buckets: buckets, groups: self.groups, rule: rule,
                                          dump: settings.voteDumpDirectory.map(SignVoteDump.init))
        case .combine(let kind, let scope, let overlap):
            let combiner = try kind.makeCombiner(layout: layout, topology: topology, buckets: buckets,
                                                 overlap: overlap, scope: scope)
            optimizer = ShardedOptimizer(layout: layout, config: config, clipNorm: settings.clipNorm, comm: world, pool: pool,
                                         combiner: combiner, groups: self.groups, tensors: tensors.map(\.range))
        }
    }

    /// Where P and G live and how they move.
    public var buffers: any GradientBuffers { optimizer.buffers }
    /// The buckets backward fills, in the order it finishes them.
    public var buckets: BucketPlan { buffers.buckets }

    /// The parameters, tensor by tensor (`parameters[tensor]`), the same on every rank after
    /// each step. Written only before the first step and by checkpoint loads.
    public var parameters: ParameterValues { ParameterValues(buffers.params, count: parameterCount) }
    /// Where backward writes this rank's local mean gradient (`gradients[tensor]`).
    public var gradients: GradientSink { buffers.gradients }
    /// The full-size gradient buffer as values (`[tensor]`), nil with sharded gradients.
    public var flatGradients: ParameterValues? {
        buffers.flatGradients.map { ParameterValues($0, count: parameterCount) }
    }
    /// The whole parameter buffer with its shard padding (`layout.paddedCount` floats), for
    /// checkpoints.
    package var paddedParameters: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: buffers.params, count: layout.paddedCount)
    }

    /// True when node peers read one copy of the parameters: only node rank 0 writes them.
    public var writesParameters: Bool { !buffers.sharesParams || topology.node.rank == 0 }

    /// Backward has finished segment `segment` (an index into the segments given at init):
    /// hands off the bucket it closes, if any.
    public func segmentDone(_ segment: Int) throws {
        let closes = buckets.closesBucket
        guard closes.indices.contains(segment) else {
            throw StepError("segmentDone(\(segment)): the workload has \(closes.count) segments (0..<\(closes.count))")
        }
        if let b = closes[segment] { try buffers.bucketReady(b) }
    }

    /// Every rank has written the parameters outside a step (initialization, a checkpoint load).
    /// Collective.
    public func paramsWritten() throws { try buffers.paramsWritten() }

    /// One step: combine, clip, update this rank's shard, gather. `sums` ride on the step's one
    /// scalar allreduce (with the gradient norm) and come back added up over the ranks, whether
    /// or not the step applied. Collective.
    public func step(lr: Float, sums: [Double]) throws -> (outcome: StepOutcome, sums: [Double]) {
        var riders = sums
        let outcome = try optimizer.step(lr: lr, riders: &riders)
        return (outcome, riders)
    }

    /// Bytes of P and of gradient buffers this rank holds, and of its optimizer state.
    public var heldBytes: (parameters: Int, gradients: Int) { buffers.heldBytes }
    public var stateBytes: Int { optimizer.stateBytes }
    /// A short description of the exchange, for the banner.
    public var description: String { buffers.description }
}

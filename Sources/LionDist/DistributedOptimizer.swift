import Collectives
import DataParallel
import LionEngine
import Model
import RankProcess
import Sharding
import Training

/// The sharded data-parallel optimizer, one call per step: `step()` combines every rank's
/// gradient, updates this rank's shard of the parameters and of the optimizer state, and
/// leaves every rank with the new parameters.
///
/// ```swift
/// let world = try World.start()
/// var layout = TensorLayout()
/// try layout.add("w", shape: [1, 8])
/// let opt = try DistributedOptimizer(tensors: layout.tensors, options: .lion(lr: 1e-3), world: world)
/// let w = layout.tensors[0]
/// for _ in 0..<100 {
///     let (p, g) = (opt.parameters[w], opt.gradients[w])     // TensorViews of shape [1, 8]
///     // ... your forward/backward: read p, write this rank's mean gradient into g ...
///     try opt.step()
/// }
/// ```
///
/// The model's parameters live in one flat, 64-byte aligned buffer (`parameters`, read tensor
/// by tensor: `parameters[tensor]`), the same on every rank; each rank writes the mean gradient
/// of ITS slice of the global batch into `gradients` (`gradients[tensor]`). The buffer is split into W equal shards; rank r keeps optimizer state for its
/// shard only (Lion: 4 bytes per parameter / W in fp32; AdamW: 8 / W). See `memory`.
/// Costs per step: one reduction of the gradient, one allreduce of a few scalars (the norm and
/// your `sums`), the update of 1/W of the parameters, one allgather of the parameters.
///
/// A thin face of the step's one owner (`DataParallelStep`), which the ready-made `Trainer`
/// drives too: the same layout, groups, pool and exchange.
public final class DistributedOptimizer {
    /// The model's tensors, as given.
    public let tensors: [ParameterTensor]
    /// Elements of the model: the tensors tile `[0, parameterCount)`.
    public let parameterCount: Int
    /// The hyperparameters.
    public let options: OptimizerOptions
    /// The learning-rate schedule.
    public let schedule: Schedule
    /// Global gradient-norm clipping threshold; 0: off.
    public let clipNorm: Float
    /// The ranks this optimizer spans.
    public let world: World
    /// Steps taken (applied or skipped): the 0-based index of the next step, which the
    /// schedule sees. Restored by `load(_:)` and `loadCheckpoint(_:)`.
    public internal(set) var stepCount = 0
    /// Steps skipped because the gradient was not finite.
    public internal(set) var skippedSteps = 0

    /// The step's owner: layout, groups, pool, combiner, state.
    let core: DataParallelStep
    var layout: ShardLayout { core.layout }
    /// This rank's optimizer state (its shard).
    var localOptimizer: LocalOptimizer { core.optimizer.state.optimizer }
    private let byName: [String: ParameterTensor]

    /// Sets up the shards, the combiner (`comm`) and the state. Collective: every rank calls it
    /// with the same arguments. The parameters start at zero: write them (the same on every
    /// rank) before the first step.
    ///
    /// - Parameters:
    ///   - tensors: the model's tensors (a `TensorLayout`'s, or a `Workload`'s).
    ///   - options: Lion or AdamW hyperparameters.
    ///   - groups: tensors with their own lr multiplier, decay or betas.
    ///   - schedule: the learning rate over the steps.
    ///   - clipNorm: clip the global gradient norm to this; 0: no clipping.
    ///   - comm: `.allreduce` (MPI_Allreduce) or `.reduceScatter` (node-shared memory).
    ///   - threads: threads for this rank's update; nil: its share of its affinity mask.
    ///   - world: the ranks.
    /// - Throws: `LionDistError` naming the first bad argument (the same on every rank), or a
    ///   communication failure.
    public init(tensors: [ParameterTensor], options: OptimizerOptions, groups: [TensorGroup] = [],
                schedule: Schedule = .constant, clipNorm: Float = 0, comm: CommKind = .allreduce,
                threads: Int? = nil, world: World) throws {
        try options.validate()
        try schedule.validate(lr: options.lr)
        guard clipNorm >= 0, clipNorm.isFinite else {
            throw LionDistError(.invalidArgument, "clipNorm must be >= 0 and finite (0: off), got \(clipNorm)")
        }
        if let threads, threads < 1 {
            throw LionDistError(.invalidArgument, "threads must be >= 1 (nil: from the affinity mask), got \(threads)")
        }
        self.parameterCount = try TensorLayout.check(tensors)
        self.tensors = tensors
        self.options = options
        self.schedule = schedule
        self.clipNorm = clipNorm
        self.world = world
        byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) })
        core = try LionDistError.wrap {
            let threads = try ThreadBudget.resolve(requested: threads, node: world.topology.node).threads
            return try DataParallelStep(tensors: tensors, settings: StepSettings(optimizer: options.engineConfig, clipNorm: clipNorm,
                                                                                 exchange: .combine(comm)),
                                        groups: groups, engineDecay: options.engineWeightDecay, userWeightDecay: options.weightDecay,
                                        threads: threads, topology: world.topology)
        }
    }

    /// The parameters, the same on every rank after each step: `parameters[tensor]` is a
    /// ``TensorView`` of the tensor's shape (`parameters[i]`: flat element i). Write them only
    /// before the first step or to load weights. Views live as long as the optimizer.
    public var parameters: ParameterValues { core.parameters }

    /// Where this rank writes the mean gradient of its slice of the batch before each `step()`:
    /// `gradients[tensor]` is a ``TensorView`` of the tensor's shape. `step()` consumes it: write
    /// all of it every step.
    public var gradients: ParameterValues { core.flatGradients! }

    /// The tensor called `name`, or nil.
    public func tensor(named name: String) -> ParameterTensor? { byName[name] }

    /// The learning rate the next step applies (before any group's `lrScale`).
    public var learningRate: Float { schedule.lr(atStep: stepCount, baseLR: options.lr) }

    /// One step, collective: averages the ranks' `gradients`, clips by the global norm, updates
    /// this rank's shard and gathers the new parameters onto every rank. A gradient with NaN or
    /// Inf anywhere skips the step on every rank (the parameters stay; `applied` is false).
    ///
    /// - Parameter sums: values to add up over the ranks for free (they ride on the norm's
    ///   allreduce), e.g. `[lossSum, count]`; the totals come back in `StepResult.sums`.
    @discardableResult
    public func step(sums: [Double] = []) throws -> StepResult {
        let lr = learningRate
        let (outcome, totals) = try LionDistError.wrap { try core.step(lr: lr, sums: sums) }
        stepCount += 1
        if !outcome.applied { skippedSteps += 1 }
        return StepResult(applied: outcome.applied, gradientNorm: outcome.gradNorm, learningRate: lr, sums: totals,
                          maskedFraction: outcome.maskedFraction)
    }

    /// A short description of how gradients cross ranks, e.g. "allreduce (MPI_Allreduce)".
    public var communication: String { core.description }
}

/// What one `DistributedOptimizer.step(sums:)` did.
public struct StepResult: Sendable {
    /// False when the gradient was not finite and every rank skipped the update.
    public let applied: Bool
    /// The global norm of the mean gradient, before clipping.
    public let gradientNorm: Double
    /// The scheduled learning rate the step used.
    public let learningRate: Float
    /// The `sums` passed in, added up over the ranks.
    public let sums: [Double]
    /// Cautious Lion: the fraction of the model's elements whose update sign disagreed with the
    /// gradient's this step (scaled by the factor, not 1); nil for plain Lion and AdamW.
    public var maskedFraction: Double? = nil
}

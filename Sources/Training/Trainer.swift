import Collectives
import Foundation
import LionEngine
import Model
import Sharding

/// Data-parallel training of any `Workload`. Every rank runs the same loop on its slice of each
/// global batch; `step(_:stats:)` below is the whole data flow of one step.
public final class Trainer {
    let config: TrainConfig
    let comm: Communicator
    let threads: Int
    let hosts: Int
    /// Ranks on this rank's node.
    let nodeSize: Int
    let workload: Workload
    let layout: ShardLayout
    let sharded: DataParallelOptimizer
    let schedule: LRSchedule
    let log: MetricsLog
    /// Pss at the step's peak (after backward, before the update), for the memory table.
    var pss = PssSampler()
    /// The sgemm rate each rank got at start, averaged over the ranks (FLOP/s), for the MFU.
    let sgemmFLOPS: Double
    var isRoot: Bool { comm.rank == 0 }

    /// Sets up a run of the workload `config.model` names: loads its data (every rank agrees
    /// on failure), then `init(config:comm:workload:)`. Collective: every rank calls it.
    public convenience init(config: TrainConfig, comm: Communicator) throws {
        try comm.agree { try config.checkResumeBatch(worldSize: comm.size) }
        try MemoryCheck.check(config: config, comm: comm)
        try self.init(config: config, comm: comm, workload: try WorkloadFactory.make(config: config, comm: comm))
    }

    /// Sets up a run of a workload already built (a sweep loads its data once for many runs):
    /// sizes threads from the affinity mask, lays out the shards, initializes the parameters
    /// identically on every rank. Collective: every rank calls it.
    public init(config: TrainConfig, comm: Communicator, workload: Workload) throws {
        self.config = config
        self.comm = comm
        self.workload = workload

        let node = try comm.splitByNode()
        let nodeLeaders = try comm.allreduceSum(node.rank == 0 ? 1 : 0)
        hosts = Int(nodeLeaders)
        nodeSize = node.size
        let budget = try comm.agree { try ThreadBudget.resolve(requested: config.threads, node: node) }
        threads = budget.threads
        if comm.rank == 0, let note = budget.note { print(note) }
        if comm.rank == 0, let warning = budget.warning { fputs(warning + "\n", stderr) }
        BLASThreads.set(threads)
        let pool = ThreadPool(threads: threads)
        sgemmFLOPS = try comm.allreduceSum(SGEMMRate.measure()) / Double(comm.size)

        layout = ShardLayout(count: workload.parameterCount, worldSize: comm.size)
        let buckets = BucketPlan(layers: workload.segments, paddedCount: layout.paddedCount,
                                 bucketElements: config.bucketElements)
        let shards = layout
        let groups = Trainer.groups(workload.tensors, weightDecay: config.optimizer.weightDecay, paddedCount: layout.paddedCount)
        sharded = try comm.agree { try config.makeDataParallelOptimizer(layout: shards, world: comm, node: node, buckets: buckets,
                                                                        pool: pool, groups: groups,
                                                                        tensors: workload.tensors.map(\.range)) }
        // Node-shared parameters are written once per node, then published to its ranks.
        if !sharded.sharesParams || node.rank == 0 { workload.initialize(sharded.params, seed: config.seed) }
        try sharded.paramsWritten()
        let total = Trainer.totalSteps(workloadSteps: workload.totalSteps, config: config)
        schedule = LRSchedule(kind: config.schedule, baseLR: config.optimizer.lr,
                              warmupSteps: min(config.warmupSteps, total / 2), totalSteps: total, minLR: config.minLR)
        let metricsPath = comm.rank == 0 ? config.metricsPath : nil
        let resuming = config.checkpoint.resume || config.checkpoint.resumeFrom != nil
        log = try comm.agree { try MetricsLog(path: metricsPath, append: resuming) }
    }

    /// Weight decay on the tensors that decay (matrices, embeddings), none on the rest (gains,
    /// biases) nor on the shard padding.
    static func groups(_ tensors: [ParameterTensor], weightDecay: Float, paddedCount: Int) -> [ParameterGroup] {
        let sorted = tensors.sorted { $0.offset < $1.offset }
        var groups: [ParameterGroup] = []
        var at = 0
        for t in sorted {
            precondition(t.offset == at, "tensor \(t.name) at \(t.offset), expected \(at): tensors must tile the buffer")
            groups.append(ParameterGroup(range: t.range, weightDecay: t.decays ? weightDecay : 0))
            at = t.range.upperBound
        }
        groups.append(ParameterGroup(range: at..<paddedCount, weightDecay: 0))
        return groups
    }

    /// The flat parameter buffer (`layout.paddedCount` floats), owned by the optimizer's
    /// combiner: with `--comm reduce-scatter` it lives in node-shared memory.
    var params: UnsafeMutablePointer<Float> { sharded.params }

    var totalSteps: Int { Trainer.totalSteps(workloadSteps: workload.totalSteps, config: config) }

    /// The workload's steps, cut by `--max-steps`.
    static func totalSteps(workloadSteps: Int, config: TrainConfig) -> Int {
        config.maxSteps.map { min($0, workloadSteps) } ?? workloadSteps
    }

    /// One training step: forward/backward on this rank's slice, then the sharded optimizer
    /// (combine -> update own shard -> gather). Returns the global batch's mean loss.
    func step(_ globalStep: Int, stats: inout RunStats) throws -> Double {
        let clock = MPIRuntime.time()
        // Forward/backward: the mean gradient over the local slice, written where the combiner
        // says. Each bucket goes to the combiner as backward finishes its last segment (it
        // starts reducing it with overlap or sharded gradients).
        let combiner = sharded
        let grads = combiner.gradients, rank = comm.rank
        let local = try workload.forwardBackward(step: globalStep, params: params, grads: grads) { segment in
            guard combiner.buckets.closesBucket.indices.contains(segment) else {
                throw TrainingError("segmentDone(\(segment)): the workload has \(combiner.buckets.closesBucket.count) segments (0..<\(combiner.buckets.closesBucket.count))")
            }
            // The test hook poisons the last segment backward finishes, before its bucket is handed off.
            if segment == 0 { FaultInjection.poisonGradient(grads, step: globalStep, rank: rank) }
            if let b = combiner.buckets.closesBucket[segment] { try combiner.bucketReady(b) }
        }
        stats.compute += MPIRuntime.time() - clock
        pss.atStepPeak(globalStep)
        // Combine, update, gather; the batch's loss sum and item count ride on the norm's allreduce.
        var riders = [local.lossSum, local.count]
        let outcome = try sharded.step(lr: schedule.lr(atStep: globalStep), riders: &riders)
        stats.timings += outcome.timings
        if let masked = outcome.maskedFraction {
            stats.lastMasked = masked
            stats.maskedSum += masked
            stats.maskedSteps += 1
        }
        stats.compute -= outcome.timings.handoff     // combine work done inside backward's hand-offs
        if outcome.applied {
            stats.consecutiveSkips = 0
        } else {
            stats.skipped += 1
            stats.consecutiveSkips += 1
            if isRoot { print("step \(globalStep + 1): non-finite gradient (norm \(outcome.gradNorm)); skipped on every rank") }
            // Every rank sees the same global norm, so every rank stops here together.
            if stats.consecutiveSkips >= RunStats.maxConsecutiveSkips {
                throw CollectiveFailure(failingRank: 0, message: "training diverged: \(stats.consecutiveSkips) consecutive steps had NaN/Inf gradients (last at step \(globalStep + 1)); lower --lr or set --clip-norm")
            }
        }
        return riders[0] / riders[1]
    }

    /// Each rank evaluates its share of the evaluation set; one allreduce sums.
    func evaluate() throws -> LossSums {
        let mine = workload.evaluate(params: params)
        var sums = [mine.lossSum, mine.count, mine.correct ?? 0]
        try comm.allreduceSum(&sums)
        return LossSums(lossSum: sums[0], count: sums[1], correct: mine.correct == nil ? nil : sums[2])
    }
}

/// Running totals of one run on this rank.
struct RunStats {
    var compute = 0.0
    var timings = StepTimings()
    var skipped = 0
    var consecutiveSkips = 0
    /// Cautious Lion: the last step's fraction of masked elements, and the sum over the steps.
    var lastMasked: Double? = nil
    var maskedSum = 0.0
    var maskedSteps = 0
    static let maxConsecutiveSkips = 10
}

import Basics
import Checkpoint
import Collectives
import Foundation
import LionEngine
import Model
import RankProcess
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
    /// The matrix-product rate measured at start (mean over ranks, FLOP/s) and its name: MFU's yardstick.
    let sgemmFLOPS: Double
    let matmulName: String
    /// `--stall-timeout`: from the first step to the final save (`run()`).
    var watchdog: StallWatchdog?
    var isRoot: Bool { comm.rank == 0 }

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
        ComputeThreads.set(threads)
        let pool = ThreadPool(threads: threads)
        let rate = workload.matmulRate()
        sgemmFLOPS = try comm.allreduceSum(rate.flops) / Double(comm.size)
        matmulName = rate.name

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
        if let path = config.initFromPath {
            // Every rank reads and checks the file, so a refusal is the same line everywhere.
            let values = try comm.agree { try workload.initialWeights(fromSafetensors: path) }
            if !sharded.sharesParams || node.rank == 0 { sharded.params.update(from: values, count: values.count) }
            if comm.rank == 0 { print("initialized from \(path) (\(workload.parameterCount) parameters); optimizer state fresh, step 0") }
        }
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
    package static func totalSteps(workloadSteps: Int, config: TrainConfig) -> Int {
        config.maxSteps.map { min($0, workloadSteps) } ?? workloadSteps
    }

    /// One training step: forward/backward on this rank's slice, then the sharded optimizer
    /// (combine -> update own shard -> gather). Returns the global batch's mean loss.
    func step(_ globalStep: Int, stats: inout RunStats) throws -> Double {
        let clock = MPIRuntime.time()
        // Forward/backward: the mean gradient over the local slice, written where the combiner
        // says. Each bucket goes to the combiner as backward finishes its last segment (it
        // starts reducing it with overlap or sharded gradients).
        watchdog?.enter(step: globalStep + 1, .compute)
        FaultInjection.stopIfAsked(step: globalStep, rank: comm.rank)
        let combiner = sharded
        let grads = combiner.gradients, rank = comm.rank
        let local = try workload.forwardBackward(step: globalStep, params: params, grads: grads) { segment in
            guard combiner.buckets.closesBucket.indices.contains(segment) else {
                throw TrainingError("segmentDone(\(segment)): the workload has \(combiner.buckets.closesBucket.count) segments (0..<\(combiner.buckets.closesBucket.count))")
            }
            // The test hook poisons the last segment backward finishes, before its bucket is handed off.
            if segment == 0 {
                FaultInjection.poisonGradient(grads, step: globalStep, rank: rank)
                try FaultInjection.throwIfAsked(at: "step", globalStep, rank: rank)
            }
            if let b = combiner.buckets.closesBucket[segment] { try combiner.bucketReady(b) }
        }
        stats.compute += MPIRuntime.time() - clock
        pss.atStepPeak(globalStep)
        // Combine, update, gather; the batch's loss sum and item count ride on the norm's allreduce.
        var riders = [local.lossSum, local.count]
        watchdog?.enter(step: globalStep + 1, .exchange)
        let outcome = try sharded.step(lr: schedule.lr(atStep: globalStep), riders: &riders)
        stats.timings += outcome.timings
        stats.lastGradNorm = outcome.gradNorm
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
                throw diverged("\(stats.consecutiveSkips) consecutive steps had NaN/Inf gradients", step: globalStep + 1)
            }
        }
        return riders[0] / riders[1]
    }

    /// Each rank evaluates its share of the evaluation set; one allreduce sums.
    func evaluate() throws -> LossSums {
        try FaultInjection.throwIfAsked(at: "eval", 0, rank: comm.rank)
        let mine = try workload.evaluate(params: params)
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
    var lastGradNorm: Double = .nan
    var maskedSum = 0.0
    var maskedSteps = 0
    static let maxConsecutiveSkips = 10
    var divergence = DivergenceGuard()

    /// A checkpoint now would hold parameters that are diverging (or stuck on NaN gradients).
    var unsafeToSave: Bool { divergence.suspect || consecutiveSkips > 0 }
}

extension Trainer {
    /// The line of a run that diverged, the same on every rank but for the checkpoint rank 0
    /// names: why, what to change (naming what this run set), and the checkpoint kept from before.
    func diverged(_ reason: String, step: Int) -> CollectiveFailure {
        var kept = ""
        if isRoot, let dir = config.checkpoint.directory {
            kept = CheckpointDirectory(path: dir).checkpoints().first
                .map { "; the last checkpoint before it, \($0.path), is kept (pass --resume-from \($0.path) with the change)" }
                ?? "; no checkpoint was saved before it"
        }
        return CollectiveFailure(failingRank: 0, message: "training diverged at step \(step): \(reason); \(divergenceAdvice)\(kept)")
    }

    /// What to change, naming what is set now.
    var divergenceAdvice: String {
        var fixes = ["lower --lr (\(config.optimizer.lr) now)"]
        fixes.append(config.clipNorm > 0 ? "a lower --clip-norm (clipping is already on at \(config.clipNorm))"
                                         : "set --clip-norm (it is off; e.g. 1)")
        if schedule.warmupSteps == 0 { fixes.append("warm up with --warmup-steps (none now)") }
        return fixes.joined(separator: ", ") + " and run again"
    }
}

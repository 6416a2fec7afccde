import Basics
import Checkpoint
import Collectives
import DataParallel
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
    /// The world, this rank's node and the hosts: made once per run.
    let topology: Topology
    let threads: Int
    let workload: Workload
    /// The step's owner: layout, buckets, groups, pool, the exchange.
    let core: DataParallelStep
    var layout: ShardLayout { core.layout }
    let schedule: LRSchedule
    let log: MetricsLog
    /// Pss at the step's peak (after backward, before the update), for the memory table.
    var pss = PssSampler()
    /// The matrix-product rate measured at start (mean over ranks, FLOP/s) and its name: MFU's yardstick.
    let sgemmFLOPS: Double
    let matmulName: String
    let computeDType: ComputeDType
    /// The CPU every rank runs on (`CPUInfo.distinct` of theirs): the banner's `cpu:` line, the summary's `cpu`.
    let cpu: String
    /// `--stall-timeout`: from the first step to the final save (`run()`).
    var watchdog: StallWatchdog?
    var isRoot: Bool { comm.rank == 0 }

    /// Sets up a run of a workload already built (a sweep loads its data once for many runs):
    /// sizes threads from the affinity mask, builds the step's owner, initializes the parameters
    /// identically on every rank. Collective: every rank calls it.
    public init(config: TrainConfig, topology: Topology, workload: Workload) throws {
        self.config = config
        self.comm = topology.world
        self.topology = topology
        self.workload = workload
        let comm = topology.world

        let budget = try comm.agree { try ThreadBudget.resolve(requested: config.threads, node: topology.node) }
        threads = budget.threads
        if comm.rank == 0, let note = budget.note { print(note) }
        if comm.rank == 0, let warning = budget.warning { fputs(warning + "\n", stderr) }
        ComputeThreads.set(threads)
        cpu = CPUInfo.distinct(try comm.allgather(CPUInfo.current.description, capacity: 200))
        let rate = workload.matmulRate()
        sgemmFLOPS = try comm.allreduceSum(rate.flops) / Double(comm.size)
        matmulName = rate.name
        computeDType = rate.dtype
        if !rate.isSGEMM {   // a lower-precision dtype that is slower than fp32 here says so
            let fp32 = try comm.allreduceSum(MatmulRate.sgemm().flops) / Double(comm.size)
            if comm.rank == 0, sgemmFLOPS < fp32 {
                print(String(format: "note: %@ products run at %.2fx fp32 sgemm's rate on this CPU (%.0f vs %.0f GFLOP/s per rank, "
                             + "measured now); --compute-dtype fp32 trains faster here", rate.name, sgemmFLOPS / fp32,
                             sgemmFLOPS / 1e9, fp32 / 1e9))
            }
        }

        let threads = self.threads
        core = try comm.agree {
            try DataParallelStep(tensors: workload.tensors, segments: workload.segments, settings: config.stepSettings,
                                 threads: threads, topology: topology)
        }
        // Node-shared parameters are written once per node, then published to its ranks.
        if core.writesParameters { workload.initialize(core.parameters, seed: config.seed) }
        if let path = config.initFromPath {
            // Every rank reads and checks the file, so a refusal is the same line everywhere.
            let values = try comm.agree { try workload.initialWeights(fromSafetensors: path) }
            if core.writesParameters { core.parameters.base.update(from: values, count: values.count) }
            if comm.rank == 0 { print("initialized from \(path) (\(workload.parameterCount) parameters); optimizer state fresh, step 0") }
        }
        try core.paramsWritten()
        let span = config.scheduleSteps ?? Trainer.totalSteps(workloadSteps: workload.totalSteps, config: config)
        schedule = LRSchedule(kind: config.schedule, baseLR: config.optimizer.lr,
                              warmupSteps: min(config.warmupSteps, span / 2), totalSteps: span, minLR: config.minLR)
        let metricsPath = comm.rank == 0 ? config.metricsPath : nil
        let resuming = config.checkpoint.resume || config.checkpoint.resumeFrom != nil
        log = try comm.agree { try MetricsLog(path: metricsPath, append: resuming) }
    }

    var totalSteps: Int { Trainer.totalSteps(workloadSteps: workload.totalSteps, config: config) }

    /// Where this run ends: `totalSteps`, or earlier under `stopAfter` (the schedule unchanged).
    var stopStep: Int { min(totalSteps, config.stopAfter ?? totalSteps) }

    /// The workload's steps, cut by `--max-steps`.
    package static func totalSteps(workloadSteps: Int, config: TrainConfig) -> Int {
        config.maxSteps.map { min($0, workloadSteps) } ?? workloadSteps
    }

    /// One training step: forward/backward on this rank's slice, then the step's owner
    /// (combine -> update own shard -> gather). Returns the global batch's mean loss; a stop
    /// signal on any rank lands in `stats.stop` (it rides on the step's scalar allreduce).
    func step(_ globalStep: Int, stats: inout RunStats) throws -> Double {
        let clock = MPIRuntime.time()
        // Forward/backward: the mean gradient over the local slice, written where the core says.
        // Each segment goes to the core as backward finishes it (the bucket it closes starts
        // reducing with overlap or sharded gradients).
        watchdog?.enter(step: globalStep + 1, .compute)
        config.faults.stopIfAsked(step: globalStep, rank: comm.rank)
        let core = self.core, grads = core.gradients, rank = comm.rank, faults = config.faults
        let local = try workload.forwardBackward(step: globalStep, params: core.parameters, grads: grads) { segment in
            // The test hook poisons the last segment backward finishes, before its bucket is handed off.
            if segment == 0 {
                faults.poisonGradient(grads, step: globalStep, rank: rank)
                try faults.throwIfAsked(at: "step", globalStep, rank: rank)
            }
            try core.segmentDone(segment)
        }
        stats.compute += MPIRuntime.time() - clock
        pss.atStepPeak(globalStep)
        // Combine, update, gather; the batch's loss sum and item count and the stop flag ride on
        // the norm's allreduce: one scalar collective per step.
        watchdog?.enter(step: globalStep + 1, .exchange)
        let (outcome, sums) = try core.step(lr: schedule.lr(atStep: globalStep),
                                            sums: [local.lossSum, local.count] + StopSignal.riders)
        stats.stop = StopSignal.agreed(sums[2...])
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
        return sums[0] / sums[1]
    }

    /// Each rank evaluates its share of the evaluation set; one allreduce sums.
    func evaluate() throws -> LossSums {
        try config.faults.throwIfAsked(at: "eval", 0, rank: comm.rank)
        let mine = try workload.evaluate(params: core.parameters)
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
    /// The stop signal any rank received, agreed in the last step's scalar allreduce.
    var stop: Int32? = nil
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

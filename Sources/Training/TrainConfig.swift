import Basics
import Checkpoint
import LionEngine
import MemoryPlanning
import RankProcess
import Sharding
import SignVote

/// Everything the training loop needs of a run, whatever the model (the command line parses and
/// validates it before MPI starts; `RunConfig` adds the built-in models' flags).
public struct TrainConfig: Sendable {
    /// The global batch: split evenly over the ranks.
    public var globalBatch: Int = 256
    public var optimizer: OptimizerConfig = .defaults(for: .lion)
    public var schedule: ScheduleKind = .cosine
    public var warmupSteps: Int = 100
    public var minLR: Float = 0
    /// Global gradient-norm clipping; 0 turns it off.
    public var clipNorm: Float = 0
    public var seed: UInt64 = 42
    /// Threads per rank for the update and for OpenBLAS; nil: from the affinity mask.
    public var threads: Int? = nil
    public var metricsPath: String? = nil
    /// The run's length in optimizer steps, cut from the workload's (`--max-steps`): the
    /// schedule spans it, so a resume must pass the same.
    public var maxSteps: Int? = nil
    /// Ends the run after this many steps in all WITHOUT changing the schedule (`--stop-after`):
    /// a checkpoint at that step resumes on the same curve as the uninterrupted run.
    public var stopAfter: Int? = nil
    /// The schedule's length in steps (the cosine reaches `minLR` there; the library's
    /// `Schedule.totalSteps`); nil: the run's steps (the workload's, cut by `maxSteps`).
    public var scheduleSteps: Int? = nil
    /// Rank 0 writes the final parameters here as raw little-endian float32.
    public var saveParamsPath: String? = nil
    /// Start from the weights of this safetensors file (PyTorch's names), with fresh optimizer state.
    public var initFromPath: String? = nil
    /// Rank 0 writes TensorBoard scalars to an event file in this directory.
    public var tensorboardDirectory: String? = nil
    /// Seconds between progress lines.
    public var logInterval: Double = 5
    public var checkpoint = CheckpointSettings()
    /// How gradients are combined (`--comm`), bucket size for overlap (`--bucket-mb`), and
    /// whether reductions start during backward (`--overlap` / `--no-overlap`).
    public var comm: CommKind = .reduceScatter
    public var bucketMB: Double = 1
    /// `bucketMB` in floats (at least one).
    public var bucketElements: Int { max(1, Int(bucketMB * 262_144)) }
    public var overlap: Bool = true
    /// `--shard`: sharded gradients and parameters once per node (`gradients-and-params`,
    /// ZeRO-2), parameters once per node (`params`), both needing reduce-scatter; or a private
    /// parameter copy per rank (`state-only`, ZeRO-1).
    public var shard: ShardScope = .gradientsAndParams
    /// `--comm sign-vote`: sign-vote Lion (`SignVoteOptimizer`) instead of a gradient combine;
    /// `comm` and `shard` are then unused.
    public var signVote = false
    /// `--vote`: what sign-vote's owners make of the votes.
    public var vote: VoteRule = .majority
    /// `--stall-timeout`: seconds without progress in any phase of a step before the job is
    /// ended (`StallWatchdog`); 0 turns the watchdog off.
    public var stallTimeout: Double = 300
    /// Test hooks of the loop (`LION_DIST_FAULT_*`), sign-vote's gradient dump
    /// (`LION_DIST_SIGNVOTE_DUMP`: a directory) and the GPT's bf16 parameter copy
    /// (`LION_DIST_BF16_DUMP`: a directory), read once by the command line; none by default.
    public var faults: FaultInjection = .none
    public var voteDumpDirectory: String? = nil
    public var bf16DumpDirectory: String? = nil

    public init() {}

    /// The global batch must split evenly over the ranks (the error names the nearest sizes that
    /// do) and, where the data has a size, fit in it. `flag` names the batch in the message.
    public static func checkBatch(_ batch: Int, worldSize: Int, datasetSize: Int? = nil, flag: String = "--batch-size") throws {
        if batch % worldSize != 0 {
            let lower = batch - batch % worldSize
            let upper = lower + worldSize
            let choices = lower > 0 ? "\(lower) or \(upper)" : "\(upper)"
            throw TrainingError("\(flag) \(batch) does not split evenly over \(worldSize) ranks; use \(choices) (a multiple of \(worldSize))")
        }
        if let datasetSize, batch > datasetSize {
            throw TrainingError("\(flag) \(batch) is larger than the \(datasetSize) training samples; use at most \(datasetSize - datasetSize % worldSize)")
        }
    }
}

extension MemoryPlan {
    /// The plan of a run of `config` for `model`.
    public init(config: TrainConfig, model: PlannedModel, worldSize: Int, ranksPerNode: Int) {
        self.init(optimizer: config.optimizer, comm: config.comm, shard: config.shard, signVote: config.signVote ? config.vote : nil,
                  bucketElements: config.bucketElements, model: model, worldSize: worldSize, ranksPerNode: ranksPerNode)
    }
}

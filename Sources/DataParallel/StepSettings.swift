import LionEngine
import Sharding
import SignVote

/// What crosses the wire in a step (`--comm`, `--shard`, `--overlap`, `--vote`).
public enum Exchange: Sendable, Equatable {
    /// Gradients combined by `comm` (`CommKind`), each rank updating its shard; `scope` says
    /// what else is sharded; `overlap` starts reductions during backward.
    case combine(CommKind, scope: ShardScope = .stateOnly, overlap: Bool = false)
    /// Sign-vote Lion: 1-bit votes, every rank applies the voted update.
    case signVote(VoteRule)
}

/// How one data-parallel step runs: the optimizer, clipping, the exchange and the gradient
/// buckets backward hands off.
public struct StepSettings: Sendable {
    /// The engine's hyperparameters (its weight decay already per unit of scheduled lr).
    public var optimizer: OptimizerConfig
    /// Clip the global gradient norm to this; 0: off.
    public var clipNorm: Float
    public var exchange: Exchange
    /// Floats per gradient bucket (backward's segments are grouped until one holds this many);
    /// nil: one bucket, handed off when backward is done.
    public var bucketElements: Int?
    /// Sign-vote's test hook: each rank writes the gradient it votes with here (`SignVoteDump`).
    public var voteDumpDirectory: String?

    public init(optimizer: OptimizerConfig, clipNorm: Float = 0, exchange: Exchange = .combine(.allreduce),
                bucketElements: Int? = nil, voteDumpDirectory: String? = nil) {
        self.optimizer = optimizer
        self.clipNorm = clipNorm
        self.exchange = exchange
        self.bucketElements = bucketElements
        self.voteDumpDirectory = voteDumpDirectory
    }
}

/// What `--comm sign-vote` accepts, each refusal one line with the fix. The command line checks
/// it before MPI starts (every rank parses the same argv); the step's owner again for library callers.
public enum SignVoteSettings {
    public static func check(optimizer: OptimizerConfig, worldSize: Int) throws {
        guard optimizer.kind == .lion else {
            throw StepError("--comm sign-vote votes with the signs of Lion updates; AdamW's update is not a sign: use --optimizer lion, or --comm reduce-scatter for AdamW", badArgument: true)
        }
        guard !optimizer.isCautious else {
            throw StepError("--comm sign-vote votes with each rank's signs, cautious Lion masks the combined gradient's: drop --cautious-factor, or use --comm reduce-scatter for cautious Lion", badArgument: true)
        }
        guard optimizer.stateDType == .fp32 else {
            throw StepError("--comm sign-vote keeps fp32 momentum (its voter kernel reads fp32); drop --state-dtype bf16", badArgument: true)
        }
        guard worldSize <= SignVoteKernel.maxVoters else {
            throw StepError("--comm sign-vote counts at most \(SignVoteKernel.maxVoters) votes per parameter, this run has \(worldSize) ranks; use fewer ranks or --comm reduce-scatter", badArgument: true)
        }
    }
}

import ArgumentParser
import Basics
import Collectives
import Model
import FashionData
import LionEngine
import RunSchema
import RunSetup
import DataParallel
import Sharding
import SignVote
import Training
#if canImport(Glibc)
import Glibc
#endif

extension OptimizerKind: ExpressibleByArgument {}
extension StateDType: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}
extension ShardScope: ExpressibleByArgument {}

extension ModelKind: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an MLP on Fashion-MNIST or a character-level GPT on Shakespeare (the default subcommand).")

    @Option(help: "mlp (Fashion-MNIST, the default) or gpt (character-level Transformer on Shakespeare).")
    var model: ModelKind = .mlp

    @Option(help: "lion or adamw.")
    var optimizer: OptimizerKind = .lion

    @Option(parsing: .unconditional, help: "Global batch size (images; sequences for the GPT), split evenly over the ranks (a multiple of the rank count; default mlp 256, gpt 12).")
    var batchSize: Int?

    @OptionGroup(title: "GPT (--model gpt)")
    var gpt: GPTOptions

    @OptionGroup(title: "Batch scaling")
    var batching: BatchOptions

    @Option(parsing: .unconditional, help: "Passes over the 60,000 training images.")
    var epochs: Int = 10

    @Option(parsing: .unconditional, help: "Hidden layer widths, comma-separated.")
    var hidden: String = "1024,512"

    @Option(parsing: .unconditional, help: "Peak learning rate (default: mlp lion 3e-4, adamw 3e-3; gpt lion 3e-4, adamw 1e-3).")
    var lr: Float?

    @Option(parsing: .unconditional, help: "beta1 (default 0.9; gpt lion 0.95).")
    var beta1: Float?

    @Option(parsing: .unconditional, help: "beta2 (default: mlp lion 0.99, adamw 0.999; gpt lion 0.98, adamw 0.99).")
    var beta2: Float?

    @Option(parsing: .unconditional, help: "Decoupled weight decay, p *= 1 - lr*wd, on weight matrices and embeddings only, not biases or LayerNorm gains (default: mlp lion 0.1, adamw 0.01; gpt lion 1, adamw 0.1).")
    var weightDecay: Float?

    @Option(parsing: .unconditional, help: "AdamW's epsilon (default 1e-8, PyTorch's).")
    var eps: Float?

    @Option(parsing: .unconditional, help: "Cautious Lion (lion-pytorch's cautious_factor, arXiv 2411.16085): update elements whose sign disagrees with the gradient's are scaled by F, then each tensor's scales are divided by their mean. 0 <= F <= 1; 1 (the default) is plain Lion, 0 the paper's. Lion only, not with --comm sign-vote.")
    var cautiousFactor: Float = 1

    @Option(help: "Storage of optimizer state: fp32 or bf16 (math stays fp32).")
    var stateDtype: StateDType = .fp32

    @Option(help: "Learning-rate schedule: constant, cosine or rsqrt.")
    var schedule: ScheduleKind = .cosine

    @Option(parsing: .unconditional, help: "Linear warm-up steps (capped at half the run).")
    var warmupSteps: Int = 100

    @Option(parsing: .unconditional, help: "Floor of the learning rate schedule (default: mlp 0, gpt lr/10).")
    var minLr: Float?

    @Option(parsing: .unconditional, help: "Clip the global gradient L2 norm to this value; 0 is off (default: mlp 0, gpt 1).")
    var clipNorm: Float?

    @Option(parsing: .unconditional, help: "Seed for initialization and shuffling (the shuffle is a function of seed and epoch).")
    var seed: UInt64 = 42

    @Option(help: "Directory holding the four Fashion-MNIST .gz files (mlp) or shakespeare.txt (gpt); default: where launch/setup puts them.")
    var dataDir: String?

    @Option(parsing: .unconditional, help: "Threads per rank for the update and OpenBLAS (default: this rank's share of its affinity mask).")
    var threads: Int?

    @Option(help: "Write JSON Lines metrics (step, epoch, summary events) to this file (rank 0).")
    var metrics: String?

    @Option(parsing: .unconditional, help: "The run's length in optimizer steps, cut from the workload's (the schedule spans it: a resume passes the same).")
    var maxSteps: Int?

    @Option(help: "End after this many steps in all without changing the schedule (with --checkpoint: resume later on the same curve).")
    var stopAfter: Int?

    @Option(help: "Write the final parameters to this file as raw little-endian float32 (rank 0).")
    var saveParams: String?

    @Option(help: "Start from the weights of this safetensors file (PyTorch's names, as `lion-dist export` writes them; nanoGPT's for the GPT) with fresh optimizer state, at any rank count.")
    var initFrom: String?

    @Option(help: "Write TensorBoard scalars (train/loss, lr, grad_norm every step; throughput at each progress line; val/loss or eval/loss and accuracy at each evaluation; memory per rank at the end) to an event file in this directory (rank 0; a resumed run adds a new file).")
    var tensorboard: String?

    @Option(parsing: .unconditional, help: "Seconds between progress lines.")
    var logInterval: Double = 5

    @OptionGroup(title: "Checkpoints") var checkpoints: CheckpointOptions
    @Option(help: "Gradient combine: reduce-scatter (node-shared memory, hierarchical across nodes) or allreduce (MPI_Allreduce); or sign-vote (Lion only: each rank keeps its own full momentum and sends 1-bit votes, no gradients).")
    var comm: CommChoice = .reduceScatter

    @Option(help: "With --comm sign-vote: what the owners make of the votes: majority (the sign of the majority, a tie gives 0; 2-bit result) or average (the mean of the W signs; a ceil(log2(W+1))-bit result).")
    var vote: VoteRule?

    @Option(parsing: .unconditional, help: "Gradient bucket size in MiB: a bucket's reduction starts when backward has finished it.")
    var bucketMb: Double = 1

    @Flag(inversion: .prefixedNo, help: "Start each bucket's reduction during backward (overlap).")
    var overlap = true

    @Flag(inversion: .prefixedNo, help: "Refuse a run whose memory plan (lion-dist plan) does not fit the memory each node has available (MemAvailable), before allocating anything.")
    var memoryCheck = true

    @Option(help: "What is sharded besides the optimizer state: gradients-and-params (ZeRO-2: no full-size gradient per rank, only bucket-sized staging slots; parameters once per node in shared memory), params (parameters once per node, a full gradient per rank) or state-only (a private parameter and gradient copy per rank, ZeRO-1). The first two need --comm reduce-scatter. Default: gradients-and-params with reduce-scatter, state-only with allreduce.")
    var shard: ShardScope?

    @Option(parsing: .unconditional, help: "End the job when a step's phase (forward/backward, the gradient exchange, an evaluation, a save) makes no progress for this many seconds, or 20x the longest phase so far if larger, naming the step, the phase and the ranks that did not arrive; 0 is off.")
    var stallTimeout: Double = 300

    func validate() throws {
        if !(stallTimeout >= 0) || !stallTimeout.isFinite { throw ValidationError("--stall-timeout must be a finite number of seconds >= 0 (0 is off), got \(stallTimeout)") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if batchSize != nil && batching.batchPerRank != nil {
            throw ValidationError("--batch-size and --batch-per-rank both set the batch; pass one of them")
        }
        if initFrom != nil && (checkpoints.resume || checkpoints.resumeFrom != nil) {
            throw ValidationError("--init-from starts a new run from weights; --resume continues one from its checkpoint: pass one of them")
        }
        if epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if (try? hiddenWidths()) == nil {
            throw ValidationError("--hidden must be positive widths separated by commas (e.g. 1024,512), got '\(hidden)'")
        }
        if warmupSteps < 0 { throw ValidationError("--warmup-steps must be >= 0, got \(warmupSteps)") }
        if let minLr, !(minLr >= 0) { throw ValidationError("--min-lr must be >= 0, got \(minLr)") }
        if let clipNorm, !(clipNorm >= 0) { throw ValidationError("--clip-norm must be >= 0 (0 is off), got \(clipNorm)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1, got \(maxSteps)") }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be at least 1, got \(stopAfter)") }
        if let shard, shard != .stateOnly, comm == .allreduce {
            throw ValidationError("--shard \(shard.rawValue) needs --comm reduce-scatter (node-shared memory); use --shard state-only with --comm allreduce")
        }
        if vote != nil && comm != .signVote {
            throw ValidationError("--vote is sign-vote's rule; pass --comm sign-vote with it, or drop --vote")
        }
        if let shard, shard != .stateOnly, comm == .signVote {
            throw ValidationError("--comm sign-vote keeps a private parameter copy per rank (and a full gradient); drop --shard \(shard.rawValue)")
        }
        if !(bucketMb > 0) { throw ValidationError("--bucket-mb must be > 0 MiB, got \(bucketMb)") }
        if !(logInterval > 0) { throw ValidationError("--log-interval must be > 0 seconds, got \(logInterval)") }
        if optimizer == .adamw && cautiousFactor != 1 {
            throw ValidationError("--cautious-factor is cautious Lion's (it masks the sign update); AdamW has none: use --optimizer lion, or drop --cautious-factor")
        }
        let o = optimizerConfig()
        do { try o.validate() } catch let e as OptimizerConfigError { throw e.validationError }
        if let minLr, minLr > o.lr { throw ValidationError("--min-lr \(minLr) is above --lr \(o.lr); use a floor below the peak") }
        if comm == .signVote {
            do { try SignVoteSettings.check(optimizer: o, worldSize: 1) } catch let e as StepError { throw ValidationError(e.message) }
        }
        if model == .gpt, let problem = gpt.shape.config(vocabSize: 1).problem { throw ValidationError(problem) }
        if model != .gpt && gpt.computeDtype == .bf16 {
            throw ValidationError("--compute-dtype \(gpt.computeDtype.rawValue) is the GPT's (--model gpt); the MLP runs fp32")
        }
    }

    func hiddenWidths() throws -> [Int] { try TrainCommand.parseWidths(hidden) }

    static func parseWidths(_ hidden: String) throws -> [Int] {
        let widths = hidden.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else { throw ValidationError("bad --hidden") }
        return widths.map { $0! }
    }

    func optimizerConfig() -> OptimizerConfig {
        var o = TunedDefaults.optimizer(optimizer, model: model)
        if let lr { o.lr = lr }
        if let weightDecay { o.weightDecay = weightDecay }
        if let beta1 { o.beta1 = beta1 }
        if let beta2 { o.beta2 = beta2 }
        if let eps { o.eps = eps }
        o.cautiousFactor = cautiousFactor
        o.stateDType = stateDtype
        return o
    }

    func trainConfig() throws -> RunConfig {
        var c = RunConfig(dataDirectory: dataDir ?? TunedDefaults.dataDirectory(model))
        c.model = model
        c.hidden = try hiddenWidths()
        c.epochs = epochs
        c.gpt = gpt.shape
        c.steps = gpt.steps
        c.evalInterval = gpt.evalInterval
        c.evalBatches = gpt.evalBatches
        c.computeDType = gpt.computeDtype == .bf16 ? .bf16 : .fp32   // auto: resolved by `resolveComputeDType`
        c.globalBatch = batchSize ?? TunedDefaults.globalBatch(model)
        c.optimizer = optimizerConfig()
        c.schedule = schedule
        c.warmupSteps = warmupSteps
        c.minLR = minLr ?? c.optimizer.lr * TunedDefaults.minLRFraction(model)
        c.clipNorm = clipNorm ?? TunedDefaults.clipNorm(model)
        c.seed = seed
        c.threads = threads
        c.metricsPath = metrics
        c.maxSteps = maxSteps
        c.stopAfter = stopAfter
        c.saveParamsPath = saveParams
        c.initFromPath = initFrom
        c.tensorboardDirectory = tensorboard
        c.logInterval = logInterval
        c.checkpoint = checkpoints.settings
        comm.apply(to: &c, shard: shard)
        c.vote = vote ?? .majority
        c.bucketMB = bucketMb
        c.overlap = overlap
        c.memoryCheck = memoryCheck
        c.stallTimeout = stallTimeout
        return c
    }

    func run() throws {
        let parsed = try trainConfig()
        try withMPI { comm in
            var config = parsed
            // The same on every rank, so every rank throws the same line.
            do {
                try config.train.applyBatch(batchPerRank: batching.batchPerRank, worldSize: comm.size,
                                      scaling: batching.scaling.lrScaling, baseBatch: batching.scaling.baseBatch)
            } catch { throw CollectiveFailure(failingRank: 0, message: String(describing: error)) }
            TestEnvironment.apply(to: &config.train)
            config.computeDType = try resolveComputeDType(world: comm)
            let topology = try Topology(world: comm, nodeKey: TestEnvironment.nodeKey)
            _ = try WorkloadFactory.trainer(config: config, topology: topology).run()
        }
    }

    /// The GPT's compute dtype for this run: `--compute-dtype auto` (the default) measured here
    /// (collective over `world` when given), rank 0 printing which and why; the MLP's is fp32.
    func resolveComputeDType(world: Communicator?) throws -> ComputeDType {
        guard model == .gpt else { return .fp32 }
        let r = try gpt.computeDtype.resolve(world: world)
        if (world?.rank ?? 0) == 0, let note = r.note { print(note) }
        return r.dtype
    }
}

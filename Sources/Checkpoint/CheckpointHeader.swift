import LionEngine

/// What a checkpoint was written for: the model shape and every hyperparameter that changes
/// the trajectory. A resumed run must match it exactly (see `mismatch(against:)`).
public struct CheckpointIdentity: Sendable, Equatable {
    public var model: ModelSignature
    public var optimizer: OptimizerConfig
    public var schedule: ScheduleKind
    /// Effective warm-up (after capping at half the run) and the schedule's length.
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minLR: Float
    public var clipNorm: Float
    public var globalBatch: Int
    public var seed: UInt64
    /// True when each rank kept its own optimizer state for every parameter (`--comm
    /// sign-vote`: each rank's momentum of its own gradients): the file holds every writer
    /// rank's copy, and only a run of the same world size can resume it.
    public var perRankState: Bool
    /// With `perRankState`: the votes were averaged (`--vote average`), not the majority taken.
    public var averagedVotes: Bool

    public init(model: ModelSignature, optimizer: OptimizerConfig, schedule: ScheduleKind,
                warmupSteps: Int, totalSteps: Int, minLR: Float, clipNorm: Float, globalBatch: Int, seed: UInt64,
                perRankState: Bool = false, averagedVotes: Bool = false) {
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minLR = minLR
        self.clipNorm = clipNorm
        self.globalBatch = globalBatch
        self.seed = seed
        self.perRankState = perRankState
        self.averagedVotes = perRankState && averagedVotes
    }

    /// Parameters of the model's shape, nil on overflow.
    public var parameterCount: Int? { model.parameterCount }

    /// The first difference from `run` as "what the checkpoint has, what this run has, which
    /// flag to pass", or nil when they agree.
    public func mismatch(against run: CheckpointIdentity) -> String? {
        if perRankState != run.perRankState {
            let modes = ["--comm allreduce or reduce-scatter (sharded state)", "--comm sign-vote (a momentum per rank)"]
            return "was written with \(modes[perRankState ? 1 : 0]), this run uses \(modes[run.perRankState ? 1 : 0]); pass the same --comm"
        }
        if averagedVotes != run.averagedVotes {
            let rules = ["majority", "average"]
            return "was written with --vote \(rules[averagedVotes ? 1 : 0]), this run has \(rules[run.averagedVotes ? 1 : 0]); pass the same --vote"
        }
        if model != run.model {
            return "was written for \(model.described(like: run.model)), this run is \(run.model); pass the same \(run.model.flags)"
        }
        let a = optimizer, b = run.optimizer
        let fields: [(String, String, String)] = [
            ("--optimizer", a.kind.rawValue, b.kind.rawValue),
            ("--state-dtype", a.stateDType.rawValue, b.stateDType.rawValue),
            ("--lr", "\(a.lr)", "\(b.lr)"),
            ("--beta1", "\(a.beta1)", "\(b.beta1)"),
            ("--beta2", "\(a.beta2)", "\(b.beta2)"),
            ("--weight-decay", "\(a.weightDecay)", "\(b.weightDecay)"),
            ("--eps", "\(a.eps)", "\(b.eps)"),
            ("--cautious-factor", "\(a.cautiousFactor)", "\(b.cautiousFactor)"),
            ("--batch-size", "\(globalBatch)", "\(run.globalBatch)"),
            ("--seed", "\(seed)", "\(run.seed)"),
            ("--schedule", schedule.rawValue, run.schedule.rawValue),
            ("--min-lr", "\(minLR)", "\(run.minLR)"),
            ("--clip-norm", "\(clipNorm)", "\(run.clipNorm)"),
        ]
        for (flag, mine, theirs) in fields where mine != theirs {
            return "was written with \(flag) \(mine), this run has \(theirs); pass the same \(flag)"
        }
        if schedule == .cosine && totalSteps != run.totalSteps {
            return "was written for a cosine schedule of \(totalSteps) steps, this run has \(run.totalSteps); "
                + "pass the same --epochs and --max-steps (library: the workload's periods, TrainConfig.maxSteps, "
                + "Schedule.totalSteps); to end a run early and resume it, use --stop-after (TrainConfig.stopAfter)"
        }
        if warmupSteps != run.warmupSteps {
            return "was written with a warm-up of \(warmupSteps) steps, this run has \(run.warmupSteps) "
                + "(--warmup-steps, capped at half the run); pass the same --warmup-steps, --epochs and --max-steps"
        }
        return nil
    }
}

/// Where training stands: enough to continue exactly (the sampler's order is a pure function
/// of (seed, epoch); the schedule a pure function of `step`).
public struct CheckpointPosition: Sendable, Equatable {
    /// Optimizer steps taken (applied or skipped) = the next step's 0-based index.
    public var step: Int
    /// The epoch of the next step, and the next step's index within it (may equal the steps
    /// per epoch: the epoch's evaluation is still to run).
    public var epoch: Int
    public var stepInEpoch: Int
    /// `LocalOptimizer.step`: applied updates (AdamW's bias correction).
    public var optimizerStep: Int
    public var skippedSteps: Int
    /// The running mean loss of the current epoch so far: its sum and its count.
    public var epochLossSum: Double
    public var epochSteps: Int

    public init(step: Int, epoch: Int, stepInEpoch: Int, optimizerStep: Int, skippedSteps: Int,
                epochLossSum: Double, epochSteps: Int) {
        self.step = step
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
        self.optimizerStep = optimizerStep
        self.skippedSteps = skippedSteps
        self.epochLossSum = epochLossSum
        self.epochSteps = epochSteps
    }
}

/// The header of a checkpoint file. Layout (all little-endian), version 3:
///
/// ```
/// magic "LIONCKPT" | version u32 | headerBytes u32
/// model u32 (the family code) | dimCount u32 | dims u32 x dimCount (the shape; `ModelSignature`)
/// optimizer u8 | stateDType u8 | schedule u8 | 0 u8
/// lr beta1 beta2 weightDecay eps minLR clipNorm cautiousFactor: f32
/// warmupSteps totalSteps globalBatch seed: u64
/// step epoch stepInEpoch optimizerStep skippedSteps epochSteps: u64 | epochLossSum f64
/// writerWorldSize u32
/// parameterCount u64 | stateBuffers u32 | blockSize u32 | dataOffset u64 | blockCount u64
/// blockCRC u32 x blockCount
/// headerCRC u32 (CRC-32 of every header byte before it)
/// ```
/// then, at `dataOffset`, the data region: `parameterCount` fp32 parameters followed by
/// `stateBuffers` fp32 state buffers (Lion: m; AdamW: m, v) of `parameterCount` each, in
/// canonical unsharded order (no shard padding), whatever the state dtype of the run
/// (bf16 -> fp32 -> bf16 is exact). The byte after the schedule (zero before sign-vote) is 1
/// when the state is per rank (`perRankState`), 2 when in addition the votes were averaged
/// (`averagedVotes`): then the state buffers are there
/// `writerWorldSize` times, rank 0's first (rank r's buffer k is buffer r * stateBuffers + k). `blockCRC[b]` is the CRC-32 of data bytes
/// [b*blockSize, (b+1)*blockSize).
public struct CheckpointHeader: Sendable, Equatable {
    public static let magic: [UInt8] = Array("LIONCKPT".utf8)
    public static let version: UInt32 = 3
    /// Versions this build reads: 2 is 3 without the cautious factor (read as 1, plain Lion).
    public static let readableVersions: ClosedRange<UInt32> = 2...version
    /// The fixed prefix that holds magic, version and the header length.
    public static let prefixBytes = 16
    /// Limits that keep a lying header from asking for absurd reads or allocations.
    public static let maxHeaderBytes = 64 << 20
    public static let maxBlocks = 1 << 22
    public static let maxModelDims = 66
    public static let maxWidth = 1 << 24
    public static let maxSteps = 1 << 48
    /// The data region starts at a multiple of this.
    public static let dataAlignment = 4096

    public var identity: CheckpointIdentity
    public var position: CheckpointPosition
    public var writerWorldSize: Int
    public var parameterCount: Int
    public var blockSize: Int
    public var blockCRCs: [UInt32]

    public init(identity: CheckpointIdentity, position: CheckpointPosition, writerWorldSize: Int,
                parameterCount: Int, blockSize: Int, blockCRCs: [UInt32]) {
        self.identity = identity
        self.position = position
        self.writerWorldSize = writerWorldSize
        self.parameterCount = parameterCount
        self.blockSize = blockSize
        self.blockCRCs = blockCRCs
    }

    public var stateBuffers: Int { identity.optimizer.stateBuffers }
    /// Copies of the state buffers in the file: one (sharded state, canonical order), or one
    /// per writer rank (`perRankState`).
    public var stateCopies: Int { identity.perRankState ? writerWorldSize : 1 }
    /// Bytes of the data region: parameters and every state buffer, fp32.
    public var dataBytes: Int { parameterCount * 4 * (1 + stateBuffers * stateCopies) }
    public var blockCount: Int { Self.blockCount(dataBytes: dataBytes, blockSize: blockSize) }
    /// Header bytes, and where the data region starts (the header rounded up to 4 KiB).
    public var headerBytes: Int { Self.headerBytes(modelDims: identity.model.dims.count, blocks: blockCount) }
    public var dataOffset: Int { Self.align(headerBytes) }
    public var fileBytes: Int { dataOffset + dataBytes }

    static func blockCount(dataBytes: Int, blockSize: Int) -> Int { (dataBytes + blockSize - 1) / blockSize }

    static func headerBytes(modelDims: Int, blocks: Int) -> Int {
        16 + 8 + 4 * modelDims + 4 + 8 * 4 + 4 * 8 + 7 * 8 + 4 + 8 + 4 + 4 + 8 + 8 + 4 * blocks + 4
    }

    static func align(_ n: Int) -> Int { (n + dataAlignment - 1) / dataAlignment * dataAlignment }

    /// The block size for `dataBytes`: 64 KiB, doubled until there are at most 2^20 blocks.
    public static func blockSize(forDataBytes dataBytes: Int) -> Int {
        var size = 64 << 10
        while blockCount(dataBytes: dataBytes, blockSize: size) > 1 << 20 { size *= 2 }
        return size
    }

    /// The file region of data block `b`, and which buffer its first byte belongs to.
    public func blockRange(_ b: Int) -> Range<Int> {
        let lo = b * blockSize
        return lo..<min(lo + blockSize, dataBytes)
    }

    /// What a data byte range holds: "parameters", "optimizer state m", or both across a boundary.
    public func regionName(of range: Range<Int>) -> String {
        let state = identity.optimizer.kind == .lion ? ["optimizer state m"] : ["optimizer state m", "optimizer state v"]
        let names = ["parameters"] + (0..<stateCopies).flatMap { r in
            state.map { identity.perRankState ? "\($0) of rank \(r)" : $0 }
        }
        let bytesPerBuffer = max(1, parameterCount * 4)
        let first = min(range.lowerBound / bytesPerBuffer, names.count - 1)
        let last = min(max(range.upperBound - 1, range.lowerBound) / bytesPerBuffer, names.count - 1)
        return names[first...last].joined(separator: " and ")
    }
}

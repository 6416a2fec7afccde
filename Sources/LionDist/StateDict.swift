import LionEngine
import Sharding

/// The optimizer's state per tensor, keyed by tensor name, as PyTorch's `state_dict()`:
/// portable across world sizes (a dict saved at W = 4 loads at W = 2) and state dtypes (bf16
/// state is exported widened to fp32 and rounded to nearest even on load).
///
/// ```swift
/// let saved = try opt.stateDict()               // collective; every rank gets all of it
/// let m = saved.tensors["fc.weight"]!.expAvg    // Lion's momentum of that tensor
/// try other.load(saved)                         // collective
/// ```
public struct StateDict: Sendable, Equatable {
    /// Which update rule the state belongs to.
    public var algorithm: OptimizerKind
    /// Steps taken (applied or skipped): the schedule's position.
    public var stepCount: Int
    /// Updates applied (AdamW's bias correction counts these).
    public var appliedSteps: Int
    /// Each tensor's state, by tensor name.
    public var tensors: [String: TensorState]

    /// A state dict (for tests and for state built elsewhere).
    public init(algorithm: OptimizerKind, stepCount: Int, appliedSteps: Int, tensors: [String: TensorState]) {
        self.algorithm = algorithm
        self.stepCount = stepCount
        self.appliedSteps = appliedSteps
        self.tensors = tensors
    }
}

/// One tensor's optimizer state, fp32, row-major in the tensor's shape.
public struct TensorState: Sendable, Equatable {
    /// The tensor's shape.
    public var shape: [Int]
    /// `exp_avg`: Lion's momentum m, AdamW's first moment.
    public var expAvg: [Float]
    /// `exp_avg_sq`: AdamW's second moment v; nil for Lion.
    public var expAvgSq: [Float]?

    /// A tensor's state.
    public init(shape: [Int], expAvg: [Float], expAvgSq: [Float]? = nil) {
        self.shape = shape
        self.expAvg = expAvg
        self.expAvgSq = expAvgSq
    }
}

extension DistributedOptimizer {
    /// Every tensor's optimizer state, gathered from the shards onto every rank. Collective.
    /// Memory: a full-size fp32 copy of each state buffer on every rank, for the call's duration.
    public func stateDict() throws -> StateDict {
        let buffers = options.engineConfig.stateBuffers
        var full = [[Float]](repeating: [], count: buffers)
        for k in 0..<buffers {
            let mine = localOptimizer.exportState(k)
            full[k] = try LionDistError.wrap { try world.comm.allgatherJoined(mine) }
        }
        var out: [String: TensorState] = [:]
        for t in tensors {
            out[t.name] = TensorState(shape: t.shape, expAvg: Array(full[0][t.range]),
                                      expAvgSq: buffers > 1 ? Array(full[1][t.range]) : nil)
        }
        return StateDict(algorithm: options.algorithm, stepCount: stepCount, appliedSteps: localOptimizer.step,
                         tensors: out)
    }

    /// Replaces the optimizer state (each rank takes its shard's part) and the step counts.
    /// Collective in effect: call it on every rank with the same dict. Throws a `LionDistError`
    /// (and changes nothing) when the dict is for another algorithm, lacks a tensor, has an
    /// unknown one, or a shape or length differs.
    public func load(_ dict: StateDict) throws {
        guard dict.algorithm == options.algorithm else {
            throw LionDistError(.invalidArgument, "state dict is for \(dict.algorithm.rawValue), this optimizer is \(options.algorithm.rawValue)")
        }
        guard dict.stepCount >= 0, dict.appliedSteps >= 0, dict.appliedSteps <= dict.stepCount else {
            throw LionDistError(.invalidArgument, "state dict: appliedSteps \(dict.appliedSteps) must be in [0, stepCount = \(dict.stepCount)]")
        }
        if let extra = dict.tensors.keys.sorted().first(where: { tensor(named: $0) == nil }) {
            throw LionDistError(.invalidArgument, "state dict has tensor \"\(extra)\", which this model does not have")
        }
        let buffers = options.engineConfig.stateBuffers
        for t in tensors {
            guard let s = dict.tensors[t.name] else {
                throw LionDistError(.invalidArgument, "state dict lacks tensor \"\(t.name)\"")
            }
            let lengths = [s.expAvg.count] + (buffers > 1 ? [s.expAvgSq?.count ?? -1] : [])
            guard s.shape == t.shape, lengths.allSatisfy({ $0 == t.count }) else {
                throw LionDistError(.invalidArgument, "state dict: tensor \"\(t.name)\" has shape \(s.shape) and \(lengths) values, the model's is \(t.shape) (\(t.count) values\(buffers > 1 ? " in expAvg and expAvgSq" : ""))")
            }
        }
        let own = layout.range(of: world.rank)
        for k in 0..<buffers {
            var full = [Float](repeating: 0, count: layout.paddedCount)
            for t in tensors {
                let values = k == 0 ? dict.tensors[t.name]!.expAvg : dict.tensors[t.name]!.expAvgSq!
                full.replaceSubrange(t.range, with: values)
            }
            localOptimizer.importState(k, from: Array(full[own]))
        }
        localOptimizer.step = dict.appliedSteps
        stepCount = dict.stepCount
        skippedSteps = dict.stepCount - dict.appliedSteps
    }
}

/// Which update rule a `ShardOptimizer` applies.
public enum OptimizerKind: String, CaseIterable, Sendable {
    /// Lion (Chen et al. 2023): one state buffer (momentum), sign update.
    case lion
    /// AdamW (Loshchilov & Hutter): two state buffers (m, v), bias corrected, decoupled decay.
    case adamw
}

/// How optimizer state is stored. Math is always fp32; bf16 state is rounded to nearest even
/// on every store (see `BFloat16.swift`).
public enum StateDType: String, CaseIterable, Sendable {
    case fp32, bf16

    public var bytesPerElement: Int {
        switch self {
        case .fp32: return 4
        case .bf16: return 2
        }
    }
}

/// An error from the optimizer engine, with a one-line message meant for the user.
public struct EngineError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Hyperparameters of one optimizer. `lr` is the base learning rate; the step's actual rate
/// comes from an `LRSchedule` and is passed to `ShardOptimizer.update`.
public struct OptimizerConfig: Sendable, Equatable {
    public var kind: OptimizerKind
    public var lr: Float
    public var beta1: Float
    public var beta2: Float
    public var weightDecay: Float
    /// AdamW's denominator epsilon; unused by Lion (still validated).
    public var eps: Float
    public var stateDType: StateDType

    public init(kind: OptimizerKind, lr: Float, beta1: Float, beta2: Float,
                weightDecay: Float, eps: Float = 1e-8, stateDType: StateDType = .fp32) {
        self.kind = kind
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.weightDecay = weightDecay
        self.eps = eps
        self.stateDType = stateDType
    }

    /// Paper defaults. Lion: lr 1e-4, b1 0.9, b2 0.99 (not 0.999), wd 0.
    /// AdamW: lr 1e-3, b1 0.9, b2 0.999, eps 1e-8, wd 0.
    public static func defaults(for kind: OptimizerKind) -> OptimizerConfig {
        switch kind {
        case .lion:
            return OptimizerConfig(kind: .lion, lr: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0)
        case .adamw:
            return OptimizerConfig(kind: .adamw, lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0)
        }
    }

    /// State buffers per parameter: Lion 1 (m), AdamW 2 (m, v).
    public var stateBuffers: Int {
        switch kind {
        case .lion: return 1
        case .adamw: return 2
        }
    }

    /// Throws an `EngineError` whose one-line message names the first bad value and its valid
    /// range, e.g. `--beta2 must be in [0, 1), got 1.0`. NaN fails every check.
    public func validate() throws {
        guard lr > 0, lr.isFinite else {
            throw EngineError("--lr must be > 0 and finite, got \(lr)")
        }
        guard beta1 >= 0, beta1 < 1 else {
            throw EngineError("--beta1 must be in [0, 1), got \(beta1)")
        }
        guard beta2 >= 0, beta2 < 1 else {
            throw EngineError("--beta2 must be in [0, 1), got \(beta2)")
        }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw EngineError("--weight-decay must be >= 0 and finite, got \(weightDecay)")
        }
        guard eps > 0, eps.isFinite else {
            throw EngineError("--eps must be > 0 and finite, got \(eps)")
        }
    }
}

/// Which update rule a `LocalOptimizer` applies.
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

/// A hyperparameter outside its valid range: which field, the value, and the range. The
/// message speaks of fields (`beta2 must be in [0, 1), got 1.0`); a command line names its own
/// flags from `field`.
public struct OptimizerConfigError: Error, CustomStringConvertible, Equatable {
    /// The `OptimizerConfig` property at fault.
    public enum Field: String, CaseIterable, Sendable {
        case lr, beta1, beta2, weightDecay, eps, cautiousFactor
    }
    public let field: Field
    public let value: Float
    /// The valid range in words, e.g. `must be in [0, 1)`.
    public let requirement: String

    public init(field: Field, value: Float, requirement: String) {
        self.field = field
        self.value = value
        self.requirement = requirement
    }

    /// One line, `<name> must be ..., got <value>`; `name` defaults to the field's own name.
    public func message(naming name: String? = nil) -> String {
        "\(name ?? field.rawValue) \(requirement), got \(value)"
    }

    public var description: String { message() }
}

/// Hyperparameters of one optimizer. `lr` is the base learning rate; the step's actual rate
/// comes from an `LRSchedule` and is passed to `LocalOptimizer.update`.
public struct OptimizerConfig: Sendable, Equatable {
    public var kind: OptimizerKind
    public var lr: Float
    public var beta1: Float
    public var beta2: Float
    public var weightDecay: Float
    /// AdamW's denominator epsilon; unused by Lion (still validated).
    public var eps: Float
    public var stateDType: StateDType
    /// Cautious Lion's factor (lion-pytorch's `cautious_factor`): the scale of update elements
    /// whose sign disagrees with the gradient's, before each tensor's scales are divided by
    /// their mean. 1 (the default) is plain Lion, 0 the paper's. Lion only.
    public var cautiousFactor: Float

    public init(kind: OptimizerKind, lr: Float, beta1: Float, beta2: Float,
                weightDecay: Float, eps: Float = 1e-8, stateDType: StateDType = .fp32, cautiousFactor: Float = 1) {
        self.kind = kind
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.weightDecay = weightDecay
        self.eps = eps
        self.stateDType = stateDType
        self.cautiousFactor = cautiousFactor
    }

    /// Cautious Lion with a factor below 1 (the two-pass update with per-tensor means).
    public var isCautious: Bool { kind == .lion && cautiousFactor < 1 }

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

    /// Throws an `OptimizerConfigError` for the first bad value (field, value, valid range).
    /// NaN fails every check.
    public func validate() throws {
        let positive = "must be > 0 and finite", unit = "must be in [0, 1)"
        guard lr > 0, lr.isFinite else { throw OptimizerConfigError(field: .lr, value: lr, requirement: positive) }
        guard beta1 >= 0, beta1 < 1 else { throw OptimizerConfigError(field: .beta1, value: beta1, requirement: unit) }
        guard beta2 >= 0, beta2 < 1 else { throw OptimizerConfigError(field: .beta2, value: beta2, requirement: unit) }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw OptimizerConfigError(field: .weightDecay, value: weightDecay, requirement: "must be >= 0 and finite")
        }
        guard eps > 0, eps.isFinite else { throw OptimizerConfigError(field: .eps, value: eps, requirement: positive) }
        guard cautiousFactor >= 0, cautiousFactor <= 1 else {
            throw OptimizerConfigError(field: .cautiousFactor, value: cautiousFactor, requirement: "must be in [0, 1]")
        }
        guard kind == .lion || cautiousFactor == 1 else {
            throw OptimizerConfigError(field: .cautiousFactor, value: cautiousFactor,
                                       requirement: "must be 1 with AdamW (the cautious mask is Lion's)")
        }
    }
}

import LionEngine

/// An optimizer's hyperparameters in lion-pytorch's terms:
/// `Lion(params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, decoupled_weight_decay=False)`.
///
/// ```swift
/// let lion = OptimizerOptions.lion(lr: 3e-4, betas: (0.9, 0.99), weightDecay: 0.1)
/// let adamw = OptimizerOptions.adamw(lr: 1e-3, weightDecay: 0.01)
/// ```
/// Per element and step, with the scheduled rate `lr_t` and the decay `wd`, Lion does
/// (fp32 math, `sign(0) = 0`):
/// ```
/// p = p * (1 - lr_t * wd)                  // wd / lr when decoupledWeightDecay
/// p = p - lr_t * sign(b1 * m + (1 - b1) * g)
/// m = b2 * m + (1 - b2) * g
/// ```
/// With `cautiousFactor` F < 1 (cautious Lion, lion-pytorch 0.2.5's `cautious_lion.Lion`), the
/// sign update of each tensor is first scaled, element by element, by 1 where it agrees with the
/// gradient's sign (`u * g > 0`) and F where not, and those scales divided by their mean over
/// the whole tensor (at least 1e-5). F = 1 is plain Lion. It costs a second pass over the
/// shard and one allreduce of a count per tensor each step.
/// AdamW is bias corrected with the same decoupled decay.
public struct OptimizerOptions: Sendable, Equatable {
    /// Lion or AdamW.
    public var algorithm: OptimizerKind
    /// The base learning rate (the schedule scales it; groups multiply it by their `lrScale`).
    public var lr: Float
    /// b1: Lion interpolates with it for the sign; AdamW's first-moment decay.
    public var beta1: Float
    /// b2: Lion's momentum decay; AdamW's second-moment decay.
    public var beta2: Float
    /// Decoupled weight decay of the tensors that decay (see `TensorLayout.add(_:shape:decays:)`).
    public var weightDecay: Float
    /// lion-pytorch's `decoupled_weight_decay`: the decay is divided by the initial `lr`, so
    /// `p *= 1 - (lr_t / lr) * weightDecay`: the decay follows the schedule's shape but not
    /// the size of `lr`.
    public var decoupledWeightDecay: Bool
    /// AdamW's denominator epsilon (unused by Lion).
    public var eps: Float
    /// How the state (Lion: m; AdamW: m, v) is stored; math is fp32 either way.
    public var stateDType: StateDType
    /// Cautious Lion's factor in [0, 1] (lion-pytorch's `cautious_factor`); 1: plain Lion. AdamW: 1.
    public var cautiousFactor: Float = 1

    /// Lion with lion-pytorch's defaults (the paper's: lr 1e-4, betas (0.9, 0.99), no decay);
    /// `cautiousFactor` below 1 makes it cautious Lion (1, the default here, is plain Lion;
    /// lion-pytorch's `cautious_lion.Lion` defaults to 0).
    public static func lion(lr: Float = 1e-4, betas: (Float, Float) = (0.9, 0.99), weightDecay: Float = 0,
                            decoupledWeightDecay: Bool = false, cautiousFactor: Float = 1,
                            stateDType: StateDType = .fp32) -> OptimizerOptions {
        OptimizerOptions(algorithm: .lion, lr: lr, beta1: betas.0, beta2: betas.1, weightDecay: weightDecay,
                         decoupledWeightDecay: decoupledWeightDecay, eps: 1e-8, stateDType: stateDType,
                         cautiousFactor: cautiousFactor)
    }

    /// AdamW with PyTorch's defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01).
    public static func adamw(lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
                             weightDecay: Float = 0.01, decoupledWeightDecay: Bool = false,
                             stateDType: StateDType = .fp32) -> OptimizerOptions {
        OptimizerOptions(algorithm: .adamw, lr: lr, beta1: betas.0, beta2: betas.1, weightDecay: weightDecay,
                         decoupledWeightDecay: decoupledWeightDecay, eps: eps, stateDType: stateDType)
    }

    /// Throws a `LionDistError` naming the first bad value and its valid range, e.g.
    /// `beta2 must be in [0, 1), got 1.0`. NaN fails every check.
    public func validate() throws {
        do { try engineConfig.validate() } catch let e as OptimizerConfigError {
            // The engine sees weightDecay / lr when decoupled: name the value the user gave.
            let value = e.field == .weightDecay ? weightDecay : e.value
            throw LionDistError(.invalidArgument, OptimizerConfigError(field: e.field, value: value, requirement: e.requirement).message())
        }
        guard engineWeightDecay(weightDecay).isFinite else {
            throw LionDistError(.invalidArgument, "weightDecay \(weightDecay) / lr \(lr) is not finite; lower weightDecay or raise lr")
        }
    }

    /// The decay the engine applies per unit of scheduled lr: `wd / lr` when decoupled.
    func engineWeightDecay(_ wd: Float) -> Float {
        decoupledWeightDecay ? wd / lr : wd
    }

    /// The engine's configuration (its weight decay already divided when decoupled).
    var engineConfig: OptimizerConfig {
        OptimizerConfig(kind: algorithm, lr: lr, beta1: beta1, beta2: beta2, weightDecay: engineWeightDecay(weightDecay),
                        eps: eps, stateDType: stateDType, cautiousFactor: cautiousFactor)
    }
}

/// The learning rate over the steps: warm-up, then constant, cosine or rsqrt decay of
/// `OptimizerOptions.lr` (see `ScheduleKind`).
///
/// ```swift
/// let schedule = Schedule(kind: .cosine, warmupSteps: 100, totalSteps: 2000, minLR: 1e-5)
/// ```
public struct Schedule: Sendable, Equatable {
    /// Constant, cosine or rsqrt after the warm-up.
    public var kind: ScheduleKind
    /// Linear warm-up: step s < warmupSteps gets lr * (s + 1) / warmupSteps.
    public var warmupSteps: Int
    /// The cosine's length: it reaches `minLR` here and stays there.
    public var totalSteps: Int
    /// The floor of cosine and rsqrt.
    public var minLR: Float

    /// A schedule; the defaults are a constant rate without warm-up.
    public init(kind: ScheduleKind = .constant, warmupSteps: Int = 0, totalSteps: Int = 0, minLR: Float = 0) {
        self.kind = kind
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minLR = minLR
    }

    /// The base rate at every step.
    public static let constant = Schedule()

    /// Throws a `LionDistError` for a negative step count, a cosine without a length, or a
    /// bad floor.
    public func validate(lr: Float) throws {
        guard warmupSteps >= 0, totalSteps >= 0 else {
            throw LionDistError(.invalidArgument, "schedule: warmupSteps \(warmupSteps) and totalSteps \(totalSteps) must be >= 0")
        }
        guard kind != .cosine || totalSteps > warmupSteps else {
            throw LionDistError(.invalidArgument, "schedule: a cosine needs totalSteps (\(totalSteps)) > warmupSteps (\(warmupSteps))")
        }
        guard minLR >= 0, minLR <= lr else {
            throw LionDistError(.invalidArgument, "schedule: minLR must be in [0, lr = \(lr)], got \(minLR)")
        }
    }

    /// The rate of 0-based `step` for base rate `lr`.
    public func lr(atStep step: Int, baseLR lr: Float) -> Float {
        engine(baseLR: lr).lr(atStep: step)
    }

    func engine(baseLR: Float) -> LRSchedule {
        LRSchedule(kind: kind, baseLR: baseLR, warmupSteps: warmupSteps, totalSteps: totalSteps, minLR: minLR)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shape of the learning-rate schedule after warmup.
public enum ScheduleKind: String, CaseIterable, Sendable {
    case constant, cosine, rsqrt
}

/// Learning rate as a function of the 0-based step, computed in Double.
///
/// - Warmup (step < warmupSteps): linear, `baseLR * (step+1) / warmupSteps`, so step 0 gets
///   baseLR/warmupSteps and step warmupSteps-1 gets baseLR.
/// - constant: baseLR.
/// - cosine: `minLR + (baseLR-minLR) * (1 + cos(pi * progress)) / 2` with
///   progress = (step - warmup) / (totalSteps - warmup), clamped to [0, 1]: minLR at totalSteps and after.
/// - rsqrt: `baseLR * sqrt(w / step)` with w = max(warmupSteps, 1) (baseLR at the end of
///   warmup), never below minLR.
public struct LRSchedule: Sendable, Equatable {
    public var kind: ScheduleKind
    public var baseLR: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minLR: Float

    public init(kind: ScheduleKind, baseLR: Float, warmupSteps: Int, totalSteps: Int, minLR: Float) {
        self.kind = kind
        self.baseLR = baseLR
        self.warmupSteps = max(0, warmupSteps)
        self.totalSteps = totalSteps
        self.minLR = minLR
    }

    public func lr(atStep step: Int) -> Float {
        let base = Double(baseLR), floor = Double(minLR)
        if step < warmupSteps {
            return Float(base * Double(step + 1) / Double(warmupSteps))
        }
        switch kind {
        case .constant:
            return baseLR
        case .cosine:
            let span = max(1, totalSteps - warmupSteps)
            let progress = min(1, max(0, Double(step - warmupSteps) / Double(span)))
            return Float(floor + (base - floor) * 0.5 * (1 + cos(Double.pi * progress)))
        case .rsqrt:
            let w = Double(max(warmupSteps, 1))
            let s = Double(max(step, max(warmupSteps, 1)))
            return Float(max(floor, base * (w / s).squareRoot()))
        }
    }
}

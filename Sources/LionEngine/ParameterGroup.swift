/// A contiguous range of an optimizer's elements with its own weight decay, learning-rate
/// multiplier and (optionally) betas, as a PyTorch param group. `LocalOptimizer` takes groups that tile its range.
///
/// ```swift
/// // decay the first 1000 elements (a matrix), not the next 64 (a LayerNorm gain)
/// let groups = [ParameterGroup(range: 0..<1000, weightDecay: 0.1),
///               ParameterGroup(range: 1000..<1064, weightDecay: 0)]
/// ```
public struct ParameterGroup: Sendable, Equatable {
    public var range: Range<Int>
    /// Decoupled weight decay of this group: p *= 1 - lr * lrScale * weightDecay.
    public var weightDecay: Float
    /// Multiplies the scheduled learning rate for this group.
    public var lrScale: Float
    /// This group's betas; nil: the optimizer's (`OptimizerConfig.beta1`, `beta2`).
    public var beta1: Float?
    public var beta2: Float?

    public init(range: Range<Int>, weightDecay: Float, lrScale: Float = 1, beta1: Float? = nil, beta2: Float? = nil) {
        self.range = range
        self.weightDecay = weightDecay
        self.lrScale = lrScale
        self.beta1 = beta1
        self.beta2 = beta2
    }

    /// Whether the two groups differ only in their range.
    func sameSettings(as other: ParameterGroup) -> Bool {
        weightDecay == other.weightDecay && lrScale == other.lrScale && beta1 == other.beta1 && beta2 == other.beta2
    }

    /// Merges neighbours with equal settings and checks that the groups tile [0, count) in order.
    public static func normalized(_ groups: [ParameterGroup], count: Int) -> [ParameterGroup] {
        var out: [ParameterGroup] = []
        var next = 0
        for g in groups where !g.range.isEmpty {
            precondition(g.range.lowerBound == next, "parameter groups must tile [0, \(count)) in order; gap or overlap at \(next)")
            if let last = out.last, last.sameSettings(as: g) {
                out[out.count - 1].range = last.range.lowerBound..<g.range.upperBound
            } else {
                out.append(g)
            }
            next = g.range.upperBound
        }
        precondition(next == count, "parameter groups cover [0, \(next)), expected [0, \(count))")
        return out
    }

    /// The groups restricted to `window` and shifted so `window.lowerBound` is 0 (a shard's view).
    public static func slice(_ groups: [ParameterGroup], to window: Range<Int>) -> [ParameterGroup] {
        groups.compactMap { g in
            let lo = max(g.range.lowerBound, window.lowerBound), hi = min(g.range.upperBound, window.upperBound)
            guard lo < hi else { return nil }
            var shifted = g
            shifted.range = (lo - window.lowerBound)..<(hi - window.lowerBound)
            return shifted
        }
    }
}

import LionEngine
import Model

/// A PyTorch-style parameter group: some tensors, by name, with their own learning-rate
/// multiplier, weight decay and betas.
///
/// ```swift
/// // the embedding learns at half the rate, without decay; the head with its own betas
/// let groups = [TensorGroup(tensors: ["wte"], lrScale: 0.5, weightDecay: 0),
///               TensorGroup(tensors: ["head.weight"], betas: (0.95, 0.98))]
/// ```
/// Tensors in no group take the optimizer's options: `weightDecay` if they decay, 0 if not.
public struct TensorGroup: Sendable {
    /// The names of this group's tensors.
    public var tensors: [String]
    /// Multiplies the scheduled learning rate.
    public var lrScale: Float
    /// This group's weight decay (divided by the initial lr when the options say decoupled);
    /// nil: each tensor keeps its own `decays` (`OptimizerOptions.weightDecay` if it decays, 0 if not).
    public var weightDecay: Float?
    /// This group's (b1, b2); nil: the options'.
    public var betas: (Float, Float)?

    /// A group of `tensors` (names).
    public init(tensors: [String], lrScale: Float = 1, weightDecay: Float? = nil, betas: (Float, Float)? = nil) {
        self.tensors = tensors
        self.lrScale = lrScale
        self.weightDecay = weightDecay
        self.betas = betas
    }

    /// The engine's groups for `tensors` (buffer order) and the padding after them, up to
    /// `paddedCount`: each tensor's settings from its group, or the defaults (`weightDecay` if
    /// it decays, 0 if not; the padding never decays). `engineDecay` turns a weight decay as
    /// given into the engine's (per unit of scheduled lr). Throws for an unknown or repeated
    /// name and for bad settings. The one builder of parameter groups: the trainer's (no
    /// groups) and the library's.
    public static func engineGroups(_ groups: [TensorGroup], tensors: [ParameterTensor], weightDecay: Float,
                                    engineDecay: (Float) -> Float = { $0 }, paddedCount: Int) throws -> [ParameterGroup] {
        var owner: [String: Int] = [:]
        let known = Set(tensors.map(\.name))
        for (i, g) in groups.enumerated() {
            guard g.lrScale > 0, g.lrScale.isFinite else {
                throw StepError("group \(i): lrScale must be > 0 and finite, got \(g.lrScale)", badArgument: true)
            }
            if let wd = g.weightDecay, !(wd >= 0 && engineDecay(wd).isFinite) {
                throw StepError("group \(i): weightDecay must be >= 0 and finite, got \(wd)", badArgument: true)
            }
            if let (b1, b2) = g.betas, !((0..<1).contains(b1) && (0..<1).contains(b2)) {
                throw StepError("group \(i): betas must be in [0, 1), got (\(b1), \(b2))", badArgument: true)
            }
            for name in g.tensors {
                guard known.contains(name) else {
                    throw StepError("group \(i) names tensor \"\(name)\", which the model does not have", badArgument: true)
                }
                if let other = owner.updateValue(i, forKey: name) {
                    throw StepError("tensor \"\(name)\" is in groups \(other) and \(i); put it in one", badArgument: true)
                }
            }
        }
        var out: [ParameterGroup] = []
        var at = 0
        for t in tensors.sorted(by: { $0.offset < $1.offset }) {
            precondition(t.offset == at, "tensor \(t.name) at \(t.offset), expected \(at): tensors must tile the buffer")
            if let i = owner[t.name] {
                let g = groups[i]
                out.append(ParameterGroup(range: t.range, weightDecay: engineDecay(g.weightDecay ?? (t.decays ? weightDecay : 0)),
                                          lrScale: g.lrScale, beta1: g.betas?.0, beta2: g.betas?.1))
            } else {
                out.append(ParameterGroup(range: t.range, weightDecay: t.decays ? engineDecay(weightDecay) : 0))
            }
            at = t.range.upperBound
        }
        if at < paddedCount { out.append(ParameterGroup(range: at..<paddedCount, weightDecay: 0)) }
        return out
    }
}

import Basics
import DeterministicRandom
import Layers
import Model
import XCTest

/// Central differences of an fp32 forward, the loss summed in Double: step h = 1e-2, and an
/// analytic gradient a passes against the numeric n when |a - n| <= 1e-3 + 1e-2 |n|.
enum FD {
    static let h: Float = 1e-2
    static let absolute = 1e-3, relative = 1e-2

    /// Compares `analytic` with the central difference of `loss` in each element `k` of `values`
    /// (all, or `sample` of them); returns the largest |a - n| / (1e-3 + 1e-2 |n|) (<= 1 passes).
    @discardableResult
    static func check(_ what: String, values: TensorView, analytic: [Float], sample: Int? = nil,
                      loss: () -> Double, file: StaticString = #filePath, line: UInt = #line) -> Double {
        precondition(analytic.count == values.count)
        var rng = SplitMix64(seed: 7)
        let ks = sample.map { n in (0..<min(n, values.count)).map { _ in rng.next(below: values.count) } } ?? Array(0..<values.count)
        var worst = 0.0
        for k in ks {
            let v = values[k]
            values[k] = v + h
            let up = loss()
            values[k] = v - h
            let down = loss()
            values[k] = v
            let numeric = (up - down) / (2 * Double(h))
            let a = Double(analytic[k])
            let ratio = abs(a - numeric) / (absolute + relative * abs(numeric))
            worst = max(worst, ratio)
            XCTAssertLessThanOrEqual(ratio, 1, "\(what)[\(k)]: analytic \(a), numeric \(numeric)", file: file, line: line)
        }
        return worst
    }
}

/// Uniform floats in [lo, hi), deterministic.
func uniform(_ n: Int, _ lo: Float, _ hi: Float, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in lo + (hi - lo) * Float(rng.nextUnit()) }
}

/// One layer alone over its own flat parameters: loss = sum(out * R) for a fixed random R,
/// so dout = R.
final class LayerHarness {
    let layer: any Layer
    let parameters: LayerParameters
    let store: FlatBuffer, gradStore: FlatBuffer
    let params: ParameterValues
    let grads: GradientSink
    let x: TensorView
    let input: ActivationTensor
    let weights: [Float]
    let dout: ActivationTensor

    init(_ layer: any Layer, sample: [Int], batch: Int, input values: [Float]? = nil, paramRange: (Float, Float)? = (-0.5, 0.5),
         dtype: ComputeDType = .fp32) throws {
        self.layer = layer
        var p = LayerParameters()
        layer.declare(&p)
        parameters = p
        store = FlatBuffer(count: max(1, p.count))
        gradStore = FlatBuffer(count: max(1, p.count))
        params = ParameterValues(store.pointer, count: p.count)
        grads = .flat(gradStore.pointer)
        let outShape = try layer.outputShape(input: sample)
        layer.allocate(ActivationPlan(maxBatch: batch, dtype: dtype, parameterCount: p.count), input: sample)
        layer.initialize(params, seed: 3)
        if let (lo, hi) = paramRange, p.count > 0 {
            _ = store.buffer.update(fromContentsOf: uniform(p.count, lo, hi, seed: 4))
        }
        input = ActivationTensor(maxBatch: batch, sampleShape: sample)
        x = input.view(batch: batch)
        x.copy(from: values ?? uniform(x.count, -1, 1, seed: 5))
        dout = ActivationTensor(maxBatch: batch, sampleShape: outShape)
        weights = uniform(batch * outShape.reduce(1, *), -1, 1, seed: 6)
        dout.view(batch: batch).copy(from: weights)
    }

    func loss() -> Double {
        let out = layer.forward(x, params: params)
        var s = 0.0
        for k in 0..<out.count { s += Double(out[k]) * Double(weights[k]) }
        return s
    }

    /// Forward, then backward with every gradient pre-filled with NaN (the layer must write
    /// each): (dx, the parameter gradient).
    func analytic() -> (dx: [Float]?, grads: [Float]) {
        _ = loss()
        gradStore.buffer.update(repeating: .nan)
        let dx = layer.backward(dout.view(batch: x.shape[0]), params: params, grads: grads, inputGradient: true)
        return (dx?.elements, Array(gradStore.buffer.prefix(parameters.count)))
    }

    /// Checks every parameter tensor and the input against central differences; returns the worst ratio.
    @discardableResult
    func checkAll(sample: Int? = nil, file: StaticString = #filePath, line: UInt = #line) -> Double {
        let (dx, g) = analytic()
        var worst = 0.0
        for t in parameters.tensors {
            worst = max(worst, FD.check(t.name, values: params[t], analytic: Array(g[t.range]), sample: sample, loss: loss,
                                        file: file, line: line))
        }
        if let dx { worst = max(worst, FD.check("dx", values: x, analytic: dx, sample: sample, loss: loss, file: file, line: line)) }
        return worst
    }
}

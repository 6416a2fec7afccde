import DeterministicRandom
@testable import Model

/// A deterministic test input: (count, width) values roughly N(0,1)-sized, and labels.
struct Batch {
    var x: [Float]
    var labels: [UInt8]

    init(count: Int, width: Int, classes: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        x = (0..<count * width).map { _ in Float((2 * rng.nextUnit() - 1) * 3.0.squareRoot()) }
        labels = (0..<count).map { _ in UInt8(rng.next() % UInt64(classes)) }
    }
}

extension MLP {
    /// forwardBackward over Swift arrays.
    func lossAndGrad(_ params: FlatBuffer, _ grads: FlatBuffer, _ b: Batch, _ ws: MLPWorkspace) -> (lossSum: Double, correct: Int) {
        b.x.withUnsafeBufferPointer { x in
            b.labels.withUnsafeBufferPointer { y in
                forwardBackward(params: params.pointer, grads: grads.pointer, x: x.baseAddress!,
                                labels: y.baseAddress!, batch: b.labels.count, workspace: ws)
            }
        }
    }

    func eval(_ params: FlatBuffer, _ b: Batch, _ ws: MLPWorkspace) -> (lossSum: Double, correct: Int) {
        b.x.withUnsafeBufferPointer { x in
            b.labels.withUnsafeBufferPointer { y in
                evaluate(params: params.pointer, x: x.baseAddress!, labels: y.baseAddress!,
                         count: b.labels.count, workspace: ws)
            }
        }
    }
}

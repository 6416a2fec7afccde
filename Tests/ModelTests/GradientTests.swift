import XCTest
@testable import Model

final class GradientTests: XCTestCase {
    override func setUp() { ComputeThreads.set(1) }

    /// Every parameter of a 5-4-3-3 MLP against central finite differences of the mean loss.
    func testGradientMatchesFiniteDifferences() {
        let m = MLP(inputs: 5, hidden: [4, 3], classes: 3)
        let params = FlatBuffer(count: m.parameterCount)
        let grads = FlatBuffer(count: m.parameterCount)
        let scratch = FlatBuffer(count: m.parameterCount)
        m.initialize(params.pointer, seed: 11)
        // Non-zero biases so their gradients are exercised away from the init point.
        for layer in m.layers {
            for j in 0..<layer.outputs { params.pointer[layer.biasOffset + j] = 0.1 * Float(j + 1) - 0.15 }
        }
        let batch = Batch(count: 4, width: 5, classes: 3, seed: 5)
        let ws = MLPWorkspace(model: m, maxBatch: 4)
        grads.buffer.update(repeating: .nan)   // must be overwritten
        _ = m.lossAndGrad(params, grads, batch, ws)
        let analytic = Array(grads.buffer)

        let eps: Float = 1e-2
        var worst = 0.0
        for k in 0..<m.parameterCount {
            let saved = params.pointer[k]
            params.pointer[k] = saved + eps
            let plus = m.lossAndGrad(params, scratch, batch, ws).lossSum / 4
            params.pointer[k] = saved - eps
            let minus = m.lossAndGrad(params, scratch, batch, ws).lossSum / 4
            params.pointer[k] = saved
            let numeric = (plus - minus) / Double(2 * eps)
            let err = abs(numeric - Double(analytic[k]))
            worst = max(worst, err)
            XCTAssertLessThan(err, 1e-3 + 1e-2 * abs(numeric), "parameter \(k): analytic \(analytic[k]) numeric \(numeric)")
        }
        XCTAssertGreaterThan(analytic.map { abs($0) }.max()!, 1e-2, "gradient is not trivially zero")
        print("gradient check: worst abs error \(worst)")
    }

    func testFreshLossNearLnClasses() {
        let m = MLP(inputs: 784, hidden: [256, 128], classes: 10)
        let params = FlatBuffer(count: m.parameterCount)
        m.initialize(params.pointer, seed: 3)
        let batch = Batch(count: 256, width: 784, classes: 10, seed: 9)
        let ws = MLPWorkspace(model: m, maxBatch: 256)
        let meanLoss = m.eval(params, batch, ws).lossSum / 256
        XCTAssertEqual(meanLoss, log(10.0), accuracy: 0.3)
    }

    func testSGDReducesLoss() {
        let m = MLP(inputs: 20, hidden: [32, 16], classes: 5)
        let params = FlatBuffer(count: m.parameterCount)
        let grads = FlatBuffer(count: m.parameterCount)
        m.initialize(params.pointer, seed: 4)
        let batch = Batch(count: 16, width: 20, classes: 5, seed: 8)
        let ws = MLPWorkspace(model: m, maxBatch: 16)
        var losses: [Double] = []
        for _ in 0..<20 {
            losses.append(m.lossAndGrad(params, grads, batch, ws).lossSum / 16)
            for k in 0..<m.parameterCount { params.pointer[k] -= 0.1 * grads.pointer[k] }
        }
        XCTAssertLessThan(losses.last!, losses.first! * 0.5, "\(losses)")
        for i in 1..<5 { XCTAssertLessThan(losses[i], losses[i - 1]) }
    }

    func testEvaluateAgreesWithForwardBackward() {
        let m = MLP(inputs: 30, hidden: [24], classes: 10)
        let params = FlatBuffer(count: m.parameterCount)
        let grads = FlatBuffer(count: m.parameterCount)
        m.initialize(params.pointer, seed: 6)
        // Train a little so predictions are not chance.
        let batch = Batch(count: 50, width: 30, classes: 10, seed: 1)
        let big = MLPWorkspace(model: m, maxBatch: 50)
        for _ in 0..<30 {
            _ = m.lossAndGrad(params, grads, batch, big)
            for k in 0..<m.parameterCount { params.pointer[k] -= 0.2 * grads.pointer[k] }
        }
        let fb = m.lossAndGrad(params, grads, batch, big)
        let small = MLPWorkspace(model: m, maxBatch: 7)   // 50 = 7*7 + 1: a ragged last chunk
        let ev = m.eval(params, batch, small)
        XCTAssertEqual(ev.correct, fb.correct)
        XCTAssertEqual(ev.lossSum, fb.lossSum, accuracy: 1e-4 * abs(fb.lossSum))
        XCTAssertGreaterThan(fb.correct, 10)
    }

    func testDeterministic() {
        let m = MLP(inputs: 64, hidden: [48, 32], classes: 10)
        let params = FlatBuffer(count: m.parameterCount)
        m.initialize(params.pointer, seed: 2)
        let batch = Batch(count: 40, width: 64, classes: 10, seed: 2)
        let ws = MLPWorkspace(model: m, maxBatch: 40)
        let g1 = FlatBuffer(count: m.parameterCount)
        let g2 = FlatBuffer(count: m.parameterCount)
        let r1 = m.lossAndGrad(params, g1, batch, ws)
        let r2 = m.lossAndGrad(params, g2, batch, ws)
        XCTAssertEqual(r1.lossSum, r2.lossSum)
        XCTAssertEqual(r1.correct, r2.correct)
        XCTAssertEqual(Array(g1.buffer), Array(g2.buffer))
    }

    func testCrossEntropyIsStableForHugeLogits() {
        let logits: [Float] = [1000, 0, -1000, 50, 50, 50]
        let labels: [UInt8] = [0, 2]
        var d = [Float](repeating: 0, count: 6)
        let r = crossEntropy(logits: logits, labels: labels, batch: 2, classes: 3, dlogits: &d)
        XCTAssertTrue(r.lossSum.isFinite)
        XCTAssertEqual(r.lossSum, log(3.0), accuracy: 1e-6)   // row 0: 0, row 1: ln 3
        XCTAssertEqual(r.correct, 1)                         // row 1 ties: first max is class 0
        XCTAssertTrue(d.allSatisfy { $0.isFinite })
        XCTAssertEqual(d[0], 0, accuracy: 1e-7)
        XCTAssertEqual(d[5], (1.0 / 3 - 1) / 2, accuracy: 1e-6)
    }
}

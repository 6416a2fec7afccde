import Basics
import DeterministicRandom
import Layers
import Model
import XCTest

/// Every layer's backward against central differences of its forward (FD: h = 1e-2,
/// |a - n| <= 1e-3 + 1e-2 |n|), with its gradients pre-filled with NaN (each must be written).
final class LayerGradientTests: XCTestCase {
    override func setUp() { ComputeThreads.set(1) }

    func testLinear() throws {
        let h = try LayerHarness(Linear(5, 3), sample: [5], batch: 4)
        print("Linear worst", h.checkAll())
    }

    func testLinearOverPositionsWithoutBias() throws {
        let h = try LayerHarness(Linear(4, 6, bias: false), sample: [3, 4], batch: 2)
        XCTAssertEqual(h.parameters.tensors.map(\.name), ["weight"])
        print("Linear no bias worst", h.checkAll())
    }

    func testReLU() throws {
        // Inputs away from the kink: |x| >= 0.1 (the difference step is 0.01).
        let x = uniform(24, 0.1, 1, seed: 9).enumerated().map { $0.offset % 3 == 0 ? -$0.element : $0.element }
        let h = try LayerHarness(ReLU(), sample: [6], batch: 4, input: x)
        XCTAssertTrue(h.parameters.tensors.isEmpty)
        print("ReLU worst", h.checkAll())
    }

    func testGELU() throws {
        let h = try LayerHarness(GELU(), sample: [11], batch: 3, input: uniform(33, -3, 3, seed: 10))   // 11: a SIMD tail
        print("GELU worst", h.checkAll())
    }

    func testLayerNorm() throws {
        let h = try LayerHarness(LayerNorm(11), sample: [2, 11], batch: 2, paramRange: (0.5, 1.5))
        print("LayerNorm worst", h.checkAll())
    }

    func testEmbedding() throws {
        // T = 4 of 6 positions: the unused wpe rows must get gradient 0; token 2 appears twice.
        let tokens: [Float] = [2, 0, 4, 2, 1, 2, 3, 0]
        let h = try LayerHarness(Embedding(vocabulary: 5, width: 3, positions: 6), sample: [4], batch: 2, input: tokens)
        let (dx, g) = h.analytic()
        XCTAssertNil(dx)
        let wpe = h.parameters.tensors[1]
        XCTAssertEqual(Array(g[wpe.range].suffix(6)), [0, 0, 0, 0, 0, 0])
        print("Embedding worst", h.checkAll())
    }

    func testCausalSelfAttention() throws {
        let h = try LayerHarness(CausalSelfAttention(width: 8, heads: 2), sample: [9, 8], batch: 2)
        print("CausalSelfAttention worst", h.checkAll())
    }

    /// More positions than one key tile (64): the online softmax across tiles.
    func testCausalSelfAttentionAcrossKeyTiles() throws {
        let h = try LayerHarness(CausalSelfAttention(width: 4, heads: 2), sample: [70, 4], batch: 1)
        print("CausalSelfAttention T=70 worst", h.checkAll(sample: 120))
    }

    func testSoftmaxCrossEntropy() {
        let (rows, classes) = (6, 5)
        let store = ActivationTensor(maxBatch: 2, sampleShape: [3, classes])
        let logits = store.view(batch: 2)
        logits.copy(from: uniform(rows * classes, -2, 2, seed: 11))
        let labels = [0, 4, 2, 2, 1, 3]
        let loss = SoftmaxCrossEntropy()
        loss.allocate(maxBatch: 2, logits: [3, classes])
        let sums = loss.forward(logits, labels: labels, gradient: true)
        let analytic = loss.backward().elements
        XCTAssertEqual(sums.count, rows)
        // The loss against a Double reference.
        var reference = 0.0, correct = 0
        for r in 0..<rows {
            let z = (0..<classes).map { Double(logits[r * classes + $0]) }
            reference += log(z.map { exp($0) }.reduce(0, +)) - z[labels[r]]
            if z.firstIndex(of: z.max()!) == labels[r] { correct += 1 }
        }
        XCTAssertEqual(sums.lossSum, reference, accuracy: 1e-5)
        XCTAssertEqual(sums.correct, correct)
        let worst = FD.check("dlogits", values: logits, analytic: analytic) {
            loss.forward(logits, labels: labels, gradient: false).loss
        }
        print("SoftmaxCrossEntropy worst", worst)
    }
}

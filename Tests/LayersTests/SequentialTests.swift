import Basics
import DeterministicRandom
import Layers
import Model
import XCTest

/// The container: its backward equals the layers composed by hand (bit for bit), matches
/// central differences of its mean loss, writes every gradient, and hands each tensor's
/// segment off once, last first, never writing it afterwards.
final class SequentialTests: XCTestCase {
    override func setUp() { ComputeThreads.set(1) }

    /// Flat parameters and gradients for a model.
    final class Buffers {
        let p: FlatBuffer, g: FlatBuffer
        let params: ParameterValues
        let grads: GradientSink
        init(_ count: Int) {
            p = FlatBuffer(count: count)
            g = FlatBuffer(count: count)
            params = ParameterValues(p.pointer, count: count)
            grads = .flat(g.pointer)
        }
    }

    func mlp() throws -> Sequential {
        try Sequential(input: [3], [Linear(3, 16), GELU(), LayerNorm(16), ReLU(), Linear(16, 4)])
    }

    /// Token ids in, one label per position: the GPT's layers in a line.
    func tiny() throws -> Sequential {
        try Sequential(input: [6], [Embedding(vocabulary: 7, width: 8, positions: 6), LayerNorm(8),
                                    CausalSelfAttention(width: 8, heads: 2), GELU(), Linear(8, 7, bias: false)])
    }

    func testLayoutNamesAndSegments() throws {
        let model = try mlp()
        XCTAssertEqual(model.tensors.map(\.name), ["0.weight", "0.bias", "2.weight", "4.weight", "4.bias"])
        XCTAssertEqual(model.tensors.map(\.decays), [true, false, false, true, false])
        XCTAssertEqual(model.parameterCount, 48 + 16 + 16 + 64 + 4)
        XCTAssertEqual(model.segments, model.tensors.map(\.range))
    }

    func testBadModelsAreRefused() {
        XCTAssertThrowsError(try Sequential(input: [3], [Linear(4, 2)])) {
            XCTAssertEqual("\($0)", "layer 0: Linear(4, 2) takes 4 features, its input has 3 (shape [3])")
        }
        XCTAssertThrowsError(try Sequential(input: [4], [Linear(4, 4), Embedding(vocabulary: 3, width: 4, positions: 4)]))
        XCTAssertThrowsError(try Sequential(input: [4], [ReLU()]))
    }

    func data(_ model: Sequential, batch: Int, classes: Int, tokens: Bool) -> ([Float], [Int]) {
        let n = batch * model.inputShape.reduce(1, *)
        var rng = SplitMix64(seed: 21)
        let x = tokens ? (0..<n).map { _ in Float(rng.next(below: 7)) } : uniform(n, -1, 1, seed: 22)
        let rows = tokens ? n : batch
        return (x, (0..<rows).map { _ in rng.next(below: classes) })
    }

    /// The same layers run by hand: forward in order, the loss, backward reversed.
    func composed(_ model: Sequential, x: [Float], labels: [Int], _ b: Buffers) -> Double {
        let input = ActivationTensor(maxBatch: model.batchSize(of: x), sampleShape: model.inputShape)
        var h = input.view(batch: model.batchSize(of: x))
        h.copy(from: x)
        for layer in model.layers { h = layer.forward(h, params: b.params) }
        let loss = model.loss.forward(h, labels: labels, gradient: true)
        var d = model.loss.backward()
        for (i, layer) in model.layers.enumerated().reversed() {
            if let dx = layer.backward(d, params: b.params, grads: b.grads, inputGradient: i > 0) { d = dx }
        }
        return loss.lossSum
    }

    /// `fdSample`: elements per tensor to difference; nil skips the differences (a model with
    /// ReLU: a step of h moves some inputs across its kink; ReLU alone is checked away from it).
    func checkContainer(_ model: Sequential, classes: Int, tokens: Bool, fdSample: Int?) throws {
        let (x, labels) = data(model, batch: 3, classes: classes, tokens: tokens)
        let b = Buffers(model.parameterCount)
        model.initialize(b.params, seed: 5)
        b.g.buffer.update(repeating: .nan)
        var order: [Int] = []
        var atHandoff: [Int: [Float]] = [:]
        let loss = model.forwardBackward(input: x, labels: labels, params: b.params, grads: b.grads) { i in
            order.append(i)
            atHandoff[i] = Array(b.g.buffer[model.segments[i]])
        }
        XCTAssertEqual(order, Array((0..<model.tensors.count).reversed()), "one hand-off per tensor, last first")
        let final = Array(b.g.buffer)
        XCTAssertFalse(final.contains { $0.isNaN }, "every gradient written")
        for (i, seen) in atHandoff { XCTAssertEqual(seen, Array(final[model.segments[i]]), "segment \(i) written after its hand-off") }

        // The layers composed by hand give the same bits.
        let c = Buffers(model.parameterCount)
        _ = c.p.buffer.update(fromContentsOf: b.p.buffer)
        let handLoss = composed(model, x: x, labels: labels, c)
        XCTAssertEqual(handLoss, loss.lossSum)
        XCTAssertEqual(Array(c.g.buffer), final)

        // Central differences of the container's mean loss, over every tensor.
        guard let fdSample else { return }
        for t in model.tensors {
            FD.check(t.name, values: b.params[t], analytic: Array(final[t.range]), sample: fdSample) {
                model.evaluate(input: x, labels: labels, params: b.params).loss
            }
        }
    }

    func testMLPContainer() throws { try checkContainer(mlp(), classes: 4, tokens: false, fdSample: nil) }

    func testSmoothMLPContainer() throws {
        let model = try Sequential(input: [3], [Linear(3, 16), GELU(), LayerNorm(16), Linear(16, 4)])
        try checkContainer(model, classes: 4, tokens: false, fdSample: 40)
    }

    func testTokenContainer() throws { try checkContainer(tiny(), classes: 7, tokens: true, fdSample: 40) }

    func testEvaluateInChunksEqualsOnePass() throws {
        let model = try mlp()
        let (x, labels) = data(model, batch: 10, classes: 4, tokens: false)
        let b = Buffers(model.parameterCount)
        model.initialize(b.params, seed: 5)
        let whole = model.evaluate(input: x, labels: labels, params: b.params)
        model.allocate(batch: 3)   // 4 chunks: 3, 3, 3, 1
        let chunked = model.evaluate(input: x, labels: labels, params: b.params)
        XCTAssertEqual(chunked.count, 10)
        XCTAssertEqual(chunked.correct, whole.correct)
        XCTAssertEqual(chunked.lossSum, whole.lossSum, accuracy: 1e-9)
    }

    func testInitializationIsDeterministic() throws {
        let (m1, m2) = (try mlp(), try mlp())
        let (a, b) = (Buffers(m1.parameterCount), Buffers(m2.parameterCount))
        m1.initialize(a.params, seed: 9)
        m2.initialize(b.params, seed: 9)
        XCTAssertEqual(Array(a.p.buffer), Array(b.p.buffer))
        m2.initialize(b.params, seed: 10)
        XCTAssertNotEqual(Array(a.p.buffer), Array(b.p.buffer))
        // Linear: U(+-1/sqrt(3)); LayerNorm gain 1.
        let w = a.params[m1.tensors[0]].elements
        XCTAssertTrue(w.allSatisfy { abs($0) <= 1 / Float(3).squareRoot() })
        XCTAssertEqual(a.params[m1.tensors[2]].elements, [Float](repeating: 1, count: 16))
    }

    /// bf16 products (oneDNN) against fp32: the same loss and gradient to bf16's precision.
    func testBF16MatchesFP32() throws {
        guard BF16Support.isNative else {
            XCTAssertThrowsError(try Sequential(input: [6], [Linear(6, 3)], dtype: .bf16))
            return
        }
        let layers: () -> [any Layer] = {
            [Embedding(vocabulary: 7, width: 16, positions: 6), CausalSelfAttention(width: 16, heads: 2), GELU(), Linear(16, 7)]
        }
        let (f, h) = (try Sequential(input: [6], layers()), try Sequential(input: [6], layers(), dtype: .bf16))
        let (x, labels) = data(f, batch: 4, classes: 7, tokens: true)
        let (a, b) = (Buffers(f.parameterCount), Buffers(h.parameterCount))
        f.initialize(a.params, seed: 3)
        _ = b.p.buffer.update(fromContentsOf: a.p.buffer)
        let lf = f.forwardBackward(input: x, labels: labels, params: a.params, grads: a.grads) { _ in }
        let lh = h.forwardBackward(input: x, labels: labels, params: b.params, grads: b.grads) { _ in }
        XCTAssertEqual(lh.loss, lf.loss, accuracy: 1e-2 * lf.loss)
        let (ga, gb) = (Array(a.g.buffer).map(Double.init), Array(b.g.buffer).map(Double.init))
        let dot = zip(ga, gb).map { $0 * $1 }.reduce(0, +)
        let cosine = dot / (ga.map { $0 * $0 }.reduce(0, +).squareRoot() * gb.map { $0 * $0 }.reduce(0, +).squareRoot())
        XCTAssertGreaterThan(cosine, 0.999)
        XCTAssertNotEqual(ga, gb, "the bf16 path ran")
    }
}

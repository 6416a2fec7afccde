import XCTest
@testable import Model

/// The whole GPT: layout, init, gradient against the Double reference, causality, determinism,
/// and the segment protocol the trainer's buckets rely on.
final class GPTModelTests: XCTestCase {
    override func setUp() { ComputeThreads.set(1) }

    let tiny = GPTConfig(vocabSize: 7, blockSize: 5, nLayer: 2, nHead: 2, nEmbd: 8)
    let baby = GPTConfig(vocabSize: 84, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128)

    /// Parameters away from the init point (std 0.02 makes every gradient tiny): N(0, 0.3)-ish
    /// matrices and gains around 1.
    func randomParams(_ m: GPT, seed: UInt64) -> FlatBuffer {
        let p = FlatBuffer(count: m.parameterCount)
        var r = TestRandom(seed: seed)
        for t in m.tensors {
            let v = t.shape.count == 1 ? r.floats(t.count, 0.6, 1.4) : r.floats(t.count, -0.5, 0.5)
            for k in 0..<t.count { p.pointer[t.offset + k] = v[k] }
        }
        return p
    }

    func fb(_ m: GPT, _ p: FlatBuffer, _ g: FlatBuffer, _ tokens: [UInt16], _ batch: Int, _ ws: GPTWorkspace,
            _ done: (Int) -> Void = { _ in }) -> Double {
        m.forwardBackward(params: p.pointer, grads: g.pointer, tokens: tokens, batch: batch, workspace: ws, segmentDone: done)
    }

    func testLayoutOfTheBabyGPT() {
        let m = GPT(config: baby)
        let (V, T, C) = (84, 64, 128)
        XCTAssertEqual(m.parameterCount, V * C + T * C + 4 * (12 * C * C + 2 * C) + C)
        XCTAssertEqual(m.parameterCount, 806_528)
        XCTAssertEqual(m.shapeDescription, "GPT 4 layers, 4 heads, 128 wide, context 64, vocab 84")
        XCTAssertEqual(Array(m.tensors.prefix(8).map(\.name)),
                       ["wte", "wpe", "h.0.ln_1.weight", "h.0.attn.c_attn.weight", "h.0.attn.c_proj.weight",
                        "h.0.ln_2.weight", "h.0.mlp.c_fc.weight", "h.0.mlp.c_proj.weight"])
        XCTAssertEqual(m.tensors.last?.name, "ln_f.weight")
        XCTAssertEqual(m.tensors.count, 2 + 6 * 4 + 1)
        XCTAssertEqual(m.tensors[3].shape, [3 * C, C])
        XCTAssertEqual(m.tensors[7].shape, [C, 4 * C])
        var next = 0
        for t in m.tensors {
            XCTAssertEqual(t.offset, next, "\(t.name): contiguous")
            XCTAssertEqual(t.decays, t.shape.count == 2, "\(t.name): matrices decay, gains do not")
            next = t.range.upperBound
        }
        XCTAssertEqual(next, m.parameterCount)
        // 6N + 12 L C T, N without wpe.
        XCTAssertEqual(m.flopsPerToken, 6 * Double(806_528 - T * C) + 12 * 4 * 128 * 64)
    }

    func testSegmentsTileTheBufferAscending() {
        let m = GPT(config: tiny)
        XCTAssertEqual(m.segments.count, 6 * tiny.nLayer + 2, "embeddings, each block's six tensors, ln_f")
        XCTAssertEqual(m.segments.first?.lowerBound, 0)
        XCTAssertEqual(m.segments.last?.upperBound, m.parameterCount)
        for i in 1..<m.segments.count { XCTAssertEqual(m.segments[i].lowerBound, m.segments[i - 1].upperBound) }
        XCTAssertEqual(m.segments[0], 0..<(7 * 8 + 5 * 8), "embeddings: wte, wpe")
        XCTAssertEqual(m.segments.last!.count, 8, "ln_f")
    }

    /// segmentDone arrives once per segment, descending, and each segment's gradient is final then.
    func testSegmentDoneOrderAndFinality() {
        let m = GPT(config: tiny)
        let p = randomParams(m, seed: 1)
        let g = FlatBuffer(count: m.parameterCount)
        let tokens = TestRandom.tokens(seed: 2, 3 * 6, below: 7)
        let ws = GPTWorkspace(model: m, maxBatch: 3)
        var order: [Int] = []
        var snapshots: [Int: [Float]] = [:]
        _ = fb(m, p, g, tokens, 3, ws) { i in
            order.append(i)
            snapshots[i] = Array(g.buffer[m.segments[i]])
        }
        XCTAssertEqual(order, Array((0..<m.segments.count).reversed()))
        for (i, s) in snapshots { XCTAssertEqual(s, Array(g.buffer[m.segments[i]]), "segment \(i) changed after segmentDone") }
    }

    func testSegmentDoneErrorStopsThePass() {
        struct Stop: Error {}
        let m = GPT(config: tiny)
        let p = randomParams(m, seed: 1)
        let g = FlatBuffer(count: m.parameterCount)
        let tokens = TestRandom.tokens(seed: 2, 6, below: 7)
        let ws = GPTWorkspace(model: m, maxBatch: 1)
        var calls: [Int] = []
        XCTAssertThrowsError(try m.forwardBackward(params: p.pointer, grads: g.pointer, tokens: tokens, batch: 1, workspace: ws) { i in
            calls.append(i)
            if i == m.segments.count - 2 { throw Stop() }
        })
        XCTAssertEqual(calls, [m.segments.count - 1, m.segments.count - 2], "ln_f, then the last block's MLP projection: stops there")
    }

    /// Every parameter's gradient against central differences of the Double reference model;
    /// the Float loss against the reference loss.
    func testWholeModelGradientMatchesDoubleReference() {
        let m = GPT(config: tiny)
        let batch = 2
        let p = randomParams(m, seed: 3)
        let g = FlatBuffer(count: m.parameterCount)
        g.buffer.update(repeating: .nan)             // must be overwritten everywhere
        let tokens = TestRandom.tokens(seed: 4, batch * 6, below: 7)
        let ws = GPTWorkspace(model: m, maxBatch: batch)
        let lossSum = fb(m, p, g, tokens, batch, ws)
        let x = Array(p.buffer)
        let refLoss = Ref.gptLoss(m, params: x.map(Double.init), tokens: tokens, batch: batch)
        XCTAssertEqual(lossSum, refLoss, accuracy: 1e-5 * refLoss)
        let n = Double(batch * tiny.blockSize)
        // The mean loss's gradient is ~1e-2 per element; Float rounding through 2 blocks, with the
        // SIMD exp/tanh (~2 ulp), stays below 2e-6 absolute (measured worst 1.3e-6).
        // Every third parameter (a third of each tensor, every tensor) keeps the debug-build test near 3 s.
        let worst = assertGradient("GPT", at: x, analytic: Array(g.buffer), atol: 4e-6, rtol: 1e-3,
                                   only: Array(stride(from: 0, to: m.parameterCount, by: 3))) {
            Ref.gptLoss(m, params: $0, tokens: tokens, batch: batch) / n
        }
        print("GPT gradient check: \(m.parameterCount / 3 + 1) of \(m.parameterCount) parameters, worst abs error \(worst)")
    }

    /// Changing a future token never changes an earlier position's logits, bitwise.
    func testCausality() {
        let cfg = GPTConfig(vocabSize: 11, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 32)
        let m = GPT(config: cfg)
        let p = FlatBuffer(count: m.parameterCount)
        m.initialize(p.pointer, seed: 5)
        let batch = 2
        let T = cfg.blockSize
        let ws = GPTWorkspace(model: m, maxBatch: batch)
        var tokens = TestRandom.tokens(seed: 6, batch * (T + 1), below: 11)
        func logits() -> [Float] {
            _ = m.loss(params: p.pointer, tokens: tokens, batch: batch, workspace: ws)
            return Array(ws.logits.buffer.prefix(batch * T * cfg.vocabSize))
        }
        let before = logits()
        for pos in [1, 7, T - 1] {
            let saved = tokens[pos]
            tokens[pos] = (saved + 1) % 11            // row 0's input at position pos
            let after = logits()
            tokens[pos] = saved
            let V = cfg.vocabSize
            XCTAssertEqual(Array(after[0..<(pos * V)]), Array(before[0..<(pos * V)]), "positions before \(pos) changed")
            XCTAssertNotEqual(Array(after[(pos * V)..<((pos + 1) * V)]), Array(before[(pos * V)..<((pos + 1) * V)]),
                              "position \(pos) itself must see its token")
            XCTAssertEqual(Array(after[(T * V)...]), Array(before[(T * V)...]), "row 1 is independent of row 0")
        }
        // nextTokenLogits over a prefix agrees with the full pass's logits at that position.
        var next = [Float](repeating: .nan, count: cfg.vocabSize)
        let one = GPTWorkspace(model: m, maxBatch: 1)
        m.nextTokenLogits(params: p.pointer, context: tokens, count: 9, workspace: one, into: &next)
        for v in 0..<cfg.vocabSize { XCTAssertEqual(next[v], before[8 * cfg.vocabSize + v], accuracy: 1e-5) }
    }

    func testDeterministic() {
        let m = GPT(config: tiny)
        let p = randomParams(m, seed: 7)
        let tokens = TestRandom.tokens(seed: 8, 4 * 6, below: 7)
        let g1 = FlatBuffer(count: m.parameterCount), g2 = FlatBuffer(count: m.parameterCount)
        let ws = GPTWorkspace(model: m, maxBatch: 4)
        let l1 = fb(m, p, g1, tokens, 4, ws)
        let l2 = fb(m, p, g2, tokens, 4, GPTWorkspace(model: m, maxBatch: 6))
        let l3 = fb(m, p, g2, tokens, 4, ws)
        XCTAssertEqual(l1, l2)
        XCTAssertEqual(l1, l3)
        XCTAssertEqual(Array(g1.buffer), Array(g2.buffer))
        XCTAssertEqual(m.loss(params: p.pointer, tokens: tokens, batch: 4, workspace: ws), l1, "loss() is the same forward")
    }

    /// A timer on the workspace times every layer kind and changes no bit of the pass.
    func testTimerChangesNothingAndTimesEveryLayer() {
        let m = GPT(config: tiny)
        let p = randomParams(m, seed: 7)
        let tokens = TestRandom.tokens(seed: 8, 4 * 6, below: 7)
        let g1 = FlatBuffer(count: m.parameterCount), g2 = FlatBuffer(count: m.parameterCount)
        let ws = GPTWorkspace(model: m, maxBatch: 4)
        let l1 = fb(m, p, g1, tokens, 4, ws)
        let timer = GPTTimer()
        ws.timer = timer
        let l2 = fb(m, p, g2, tokens, 4, ws)
        XCTAssertEqual(l1, l2)
        XCTAssertEqual(Array(g1.buffer), Array(g2.buffer))
        for layer in GPTTimer.Layer.allCases {
            XCTAssertGreaterThan(timer.seconds(layer, .forward), 0, "\(layer.name) forward")
            if layer != .bf16Weights { XCTAssertGreaterThan(timer.seconds(layer, .backward), 0, "\(layer.name) backward") }
        }
        XCTAssertEqual(timer.seconds(.bf16Weights, .backward), 0)
        timer.reset()
        XCTAssertTrue(GPTTimer.Layer.allCases.allSatisfy { timer.seconds($0, .forward) == 0 && timer.seconds($0, .backward) == 0 })
    }

    /// Two threads (the kernels' row/head loops and OpenBLAS): deterministic, and equal to one
    /// thread up to rounding (the split never changes a row's arithmetic; OpenBLAS may).
    func testTwoThreadsDeterministicAndAgreeWithOne() {
        let m = GPT(config: GPTConfig(vocabSize: 11, blockSize: 12, nLayer: 2, nHead: 3, nEmbd: 24))
        let p = randomParams(m, seed: 14)
        let tokens = TestRandom.tokens(seed: 15, 5 * 13, below: 11)
        let ws = GPTWorkspace(model: m, maxBatch: 5)
        let g1 = FlatBuffer(count: m.parameterCount), g2 = FlatBuffer(count: m.parameterCount), g3 = FlatBuffer(count: m.parameterCount)
        let l1 = fb(m, p, g1, tokens, 5, ws)
        ComputeThreads.set(2)
        defer { ComputeThreads.set(1) }
        let l2 = fb(m, p, g2, tokens, 5, ws)
        let l3 = fb(m, p, g3, tokens, 5, ws)
        XCTAssertEqual(l2, l3)
        XCTAssertEqual(Array(g2.buffer), Array(g3.buffer))
        XCTAssertEqual(l1, l2, accuracy: 1e-6 * l1)
        for k in 0..<m.parameterCount { XCTAssertEqual(g1.pointer[k], g2.pointer[k], accuracy: 1e-6 + 1e-4 * abs(g1.pointer[k])) }
        print("1 vs 2 threads: grads bitwise equal: \(Array(g1.buffer) == Array(g2.buffer))")
    }

    func testInitialization() {
        let m = GPT(config: baby)
        let a = FlatBuffer(count: m.parameterCount), b = FlatBuffer(count: m.parameterCount)
        m.initialize(a.pointer, seed: 9)
        m.initialize(b.pointer, seed: 9)
        XCTAssertEqual(Array(a.buffer), Array(b.buffer))
        m.initialize(b.pointer, seed: 10)
        XCTAssertNotEqual(Array(a.buffer), Array(b.buffer))
        func stats(_ name: String) -> (mean: Double, std: Double) {
            let t = m.tensors.first { $0.name == name }!
            let v = a.buffer[t.range].map(Double.init)
            let mean = v.reduce(0, +) / Double(v.count)
            return (mean, (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)).squareRoot())
        }
        for name in ["wte", "wpe", "h.0.attn.c_attn.weight", "h.3.mlp.c_fc.weight"] {
            XCTAssertEqual(stats(name).std, 0.02, accuracy: 0.001, name)
            XCTAssertEqual(stats(name).mean, 0, accuracy: 0.001, name)
        }
        for name in ["h.0.attn.c_proj.weight", "h.2.mlp.c_proj.weight"] {
            XCTAssertEqual(stats(name).std, 0.02 / 8.0.squareRoot(), accuracy: 0.0005, name)
        }
        for name in ["h.1.ln_1.weight", "h.1.ln_2.weight", "ln_f.weight"] {
            XCTAssertEqual(stats(name).mean, 1, name)
            XCTAssertEqual(stats(name).std, 0, name)
        }
        // A fresh model predicts nearly uniformly: mean loss ~ ln V.
        let tokens = TestRandom.tokens(seed: 11, 4 * 65, below: 84)
        let ws = GPTWorkspace(model: m, maxBatch: 4)
        XCTAssertEqual(m.loss(params: a.pointer, tokens: tokens, batch: 4, workspace: ws) / (4 * 64), log(84.0), accuracy: 0.05)
    }

    func testSGDLearnsAFixedBatch() {
        let m = GPT(config: GPTConfig(vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16))
        let p = FlatBuffer(count: m.parameterCount), g = FlatBuffer(count: m.parameterCount)
        m.initialize(p.pointer, seed: 12)
        let tokens = TestRandom.tokens(seed: 13, 4 * 9, below: 13)
        let ws = GPTWorkspace(model: m, maxBatch: 4)
        var losses: [Double] = []
        for _ in 0..<60 {
            losses.append(fb(m, p, g, tokens, 4, ws) / 32)
            for k in 0..<m.parameterCount { p.pointer[k] -= 1.0 * g.pointer[k] }
        }
        XCTAssertLessThan(losses.last!, 0.5 * losses.first!, "\(losses)")
    }

    func testBenchmarkTimesStepsAndCallsTheOptimizer() {
        let m = GPT(config: tiny)
        var calls = 0
        let r = GPTBenchmark(model: m, batch: 3, steps: 4, warmup: 2).run { p, g in
            calls += 1
            XCTAssertTrue(g[0].isFinite)
        }
        XCTAssertEqual(calls, 6, "warm-up and timed steps both run the optimizer")
        XCTAssertEqual(r.steps, 4)
        XCTAssertEqual(r.tokensPerStep, 3 * tiny.blockSize)
        XCTAssertGreaterThan(r.medianSeconds, 0)
        XCTAssertLessThanOrEqual(r.minSeconds, r.medianSeconds)
        XCTAssertEqual(r.tokensPerSecond, Double(r.tokensPerStep) / r.medianSeconds, accuracy: 1e-9 * r.tokensPerSecond)
        XCTAssertEqual(r.flopsPerSecond, r.tokensPerSecond * m.flopsPerToken, accuracy: 1e-6 * r.flopsPerSecond)
        // Per-layer means and the optimizer's fit inside the mean step.
        let layers = r.forwardSeconds.reduce(0, +) + r.backwardSeconds.reduce(0, +)
        XCTAssertGreaterThan(layers, 0)
        XCTAssertGreaterThan(r.optimizerSeconds, 0)
        XCTAssertLessThanOrEqual(layers + r.optimizerSeconds, r.meanSeconds * (1 + 1e-9))
        XCTAssertNil(r.implementation, "fp32 runs no oneDNN kernel")
    }

    func testConfigProblems() {
        XCTAssertNil(baby.problem)
        XCTAssertNotNil(GPTConfig(vocabSize: 84, blockSize: 64, nLayer: 4, nHead: 3, nEmbd: 128).problem)
        XCTAssertNotNil(GPTConfig(vocabSize: 84, blockSize: 0, nLayer: 4, nHead: 4, nEmbd: 128).problem)
        XCTAssertNotNil(GPTConfig(vocabSize: 70000, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128).problem)
        XCTAssertEqual(GPTConfig(vocabSize: 84, blockSize: 64, nLayer: 4, nHead: 3, nEmbd: 128).problem,
                       "--n-embd 128 must be a positive multiple of --n-head 3")
    }

    func testWorkspaceBytes() {
        let m = GPT(config: baby)
        let ws = GPTWorkspace(model: m, maxBatch: 12)
        let (B, T, C, L, V, NH) = (12, 64, 128, 4, 84, 4)
        let hs = C / NH   // attention slot: two (T, 64) tiles, a transposed (hs, 64) one, two (T) vectors
        let floats = B * T * (L * (10 * C + 4 + NH) + 16 * C + V + 2) + ComputeThreads.count * (T * (2 * 64 + 2) + hs * 64)
        XCTAssertEqual(ws.bytes, 4 * floats)
    }
}

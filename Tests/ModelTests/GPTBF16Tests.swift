import XCTest
@testable import Model

/// The GPT with `--compute-dtype bf16` against the same GPT in fp32: same parameters, same
/// tokens. bf16 keeps 8 significant bits (relative rounding 2^-9 per operand), so each product
/// is off by ~2^-8 relative in its terms; through 2 blocks and the head the loss must agree
/// within 1% and every tensor's gradient within 5% of its largest element (stated bounds,
/// measured well inside them). Deterministic for a fixed thread count, like fp32.
final class GPTBF16Tests: XCTestCase {
    override func setUp() { ComputeThreads.set(1) }
    override func tearDown() { ComputeThreads.set(1) }

    let config = GPTConfig(vocabSize: 84, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64)

    func pass(_ m: GPT, _ p: FlatBuffer, _ tokens: [UInt16], _ ws: GPTWorkspace) -> (Double, [Float]) {
        let g = FlatBuffer(count: m.parameterCount)
        let loss = m.forwardBackward(params: p.pointer, grads: g.pointer, tokens: tokens, batch: 6, workspace: ws) { _ in }
        return (loss, Array(g.buffer))
    }

    /// The 2-block GPT of these tests, its parameters (seed 3) and 6 windows of tokens.
    func model() -> (GPT, FlatBuffer, [UInt16]) {
        let m = GPT(config: config)
        let p = FlatBuffer(count: m.parameterCount)
        m.initialize(p.pointer, seed: 3)
        return (m, p, TestRandom.tokens(seed: 4, 6 * 33, below: 84))
    }

    func testBF16LossAndGradientsAgreeWithFP32WithinBF16Rounding() throws {
        try XCTSkipUnless(BF16Support.isNative, BF16Support.refusalReason() ?? "")
        let (m, p, tokens) = model()
        let (l32, g32) = pass(m, p, tokens, GPTWorkspace(model: m, maxBatch: 6))
        let ws16 = GPTWorkspace(model: m, maxBatch: 6, dtype: .bf16)
        let (l16, g16) = pass(m, p, tokens, ws16)
        XCTAssertNotEqual(l16, l32, "bf16 must actually round (else this compares fp32 with itself)")
        XCTAssertEqual(l16, l32, accuracy: 0.01 * l32)
        var worst = 0.0
        for t in m.tensors {
            let scale = (t.offset..<t.offset + t.count).map { abs(g32[$0]) }.max() ?? 0
            for k in t.offset..<t.offset + t.count {
                XCTAssertEqual(g16[k], g32[k], accuracy: 0.05 * scale, "\(t.name)[\(k - t.offset)]")
                worst = max(worst, Double(abs(g16[k] - g32[k]) / max(scale, .leastNormalMagnitude)))
            }
        }
        print("bf16 vs fp32: loss \(l16) vs \(l32); worst gradient error \(worst) of the tensor's largest element")
        XCTAssertNotNil(ws16.bf16Implementation)
    }

    /// A copy held elsewhere (the node-shared one), refreshed slice by slice as a node's ranks
    /// do, gives the private copy's loss and gradients bit for bit; a pass does not refresh it
    /// itself: a changed weight is seen only after its owner refreshes.
    func testHeldWeightsAreReadAsTheirOwnerLeftThem() throws {
        try XCTSkipUnless(BF16Support.isNative, BF16Support.refusalReason() ?? "")
        let (m, p, tokens) = model()
        let copy = BF16Weights(count: m.parameterCount)
        let held = BF16Weights(holding: copy.pointer, count: copy.count, owner: copy)
        XCTAssertFalse(held.refreshesPerPass)
        func refresh() { for part in 0..<3 { held.refresh(from: p.pointer, range: BF16Weights.slice(part, of: 3, count: held.count)) } }
        refresh()
        let ws = GPTWorkspace(model: m, maxBatch: 6, dtype: .bf16, bf16Weights: held)
        let own = pass(m, p, tokens, GPTWorkspace(model: m, maxBatch: 6, dtype: .bf16))
        let shared = pass(m, p, tokens, ws)
        XCTAssertEqual(shared.0, own.0)
        XCTAssertEqual(shared.1, own.1)
        let cAttn = try XCTUnwrap(m.tensors.first { $0.name == "h.0.attn.c_attn.weight" })
        for k in cAttn.range { p.pointer[k] *= 1.5 }
        XCTAssertEqual(pass(m, p, tokens, ws).0, own.0, "a pass refreshed the held copy")
        refresh()
        XCTAssertNotEqual(pass(m, p, tokens, ws).0, own.0)
    }

    /// The slices a node's ranks refresh tile [0, count), each starting on a 64-byte line.
    func testSlicesTileTheCopyOnCacheLines() {
        for count in [0, 1, 31, 32, 33, 1000, 27_936] {
            for parts in 1...5 {
                let slices = (0..<parts).map { BF16Weights.slice($0, of: parts, count: count) }
                XCTAssertEqual(slices.first?.lowerBound, 0)
                XCTAssertEqual(slices.last?.upperBound, count)
                for (a, b) in zip(slices, slices.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                for s in slices where s.lowerBound < count { XCTAssertEqual(s.lowerBound % 32, 0, "\(count) in \(parts)") }
            }
        }
    }

    func testBF16IsDeterministicForAFixedThreadCount() throws {
        try XCTSkipUnless(BF16Support.isNative, BF16Support.refusalReason() ?? "")
        let m = GPT(config: GPTConfig(vocabSize: 84, blockSize: 64, nLayer: 1, nHead: 4, nEmbd: 128))
        let p = FlatBuffer(count: m.parameterCount)
        m.initialize(p.pointer, seed: 5)
        let tokens = TestRandom.tokens(seed: 6, 6 * 65, below: 84)
        ComputeThreads.set(2)
        let ws = GPTWorkspace(model: m, maxBatch: 6, dtype: .bf16)
        let a = pass(m, p, tokens, ws), b = pass(m, p, tokens, ws)
        XCTAssertEqual(a.0, b.0)
        XCTAssertEqual(a.1, b.1)
    }

    /// The forward-only loss and the last position's logits (sampling) read the bf16
    /// activations as the training pass does: the same loss bit for bit, and logits that agree
    /// with fp32's within bf16 rounding (2% of their spread).
    func testBF16ForwardOnlyPathsAgreeWithTheTrainingPass() throws {
        try XCTSkipUnless(BF16Support.isNative, BF16Support.refusalReason() ?? "")
        let (m, p, tokens) = model()
        let ws = GPTWorkspace(model: m, maxBatch: 6, dtype: .bf16)
        XCTAssertEqual(m.loss(params: p.pointer, tokens: tokens, batch: 6, workspace: ws), pass(m, p, tokens, ws).0)
        func logits(_ ws: GPTWorkspace) -> [Float] {
            var out = [Float](repeating: .nan, count: 84)
            m.nextTokenLogits(params: p.pointer, context: tokens, count: 20, workspace: ws, into: &out)
            return out
        }
        let l16 = logits(GPTWorkspace(model: m, maxBatch: 1, dtype: .bf16)), l32 = logits(GPTWorkspace(model: m, maxBatch: 1))
        let spread = l32.max()! - l32.min()!
        XCTAssertNotEqual(l16, l32)
        for v in 0..<84 { XCTAssertEqual(l16[v], l32[v], accuracy: 0.02 * spread, "logit \(v)") }
    }
}

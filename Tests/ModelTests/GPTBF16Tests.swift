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

    func testBF16LossAndGradientsAgreeWithFP32WithinBF16Rounding() throws {
        try XCTSkipUnless(BF16Support.isNative, BF16Support.refusalReason() ?? "")
        let m = GPT(config: config)
        let p = FlatBuffer(count: m.parameterCount)
        m.initialize(p.pointer, seed: 3)
        let tokens = TestRandom.tokens(seed: 4, 6 * 33, below: 84)
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
}

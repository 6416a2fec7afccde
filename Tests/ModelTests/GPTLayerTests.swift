import XCTest
@testable import Model

/// Each GPT layer's Float kernel: forward against the Double reference, backward against central
/// finite differences (in Double) of the reference forward, contracted with a random output
/// gradient: L(inputs) = sum_k dout_k * f(inputs)_k, whose gradient is what the backward computes.
final class GPTLayerTests: XCTestCase {
    override func setUp() { ComputeThreads.set(1) }

    func dot(_ a: [Double], _ r: [Float]) -> Double { zip(a, r).reduce(0) { $0 + $1.0 * Double($1.1) } }
    func doubles(_ a: [Float]) -> [Double] { a.map(Double.init) }
    func assertClose(_ got: [Float], _ want: [Double], atol: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        let worst = zip(got, want).map { abs(Double($0) - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, atol, "\(what): forward differs from the Double reference", file: file, line: line)
    }

    func testEmbedding() {
        let (B, T, C, V) = (2, 3, 4, 5)
        let stride = T + 1
        let tokens: [UInt16] = [1, 3, 1, 0, 4, 1, 1, 2]   // token 1 three times: its rows accumulate
        var r = TestRandom(seed: 1)
        let wte = r.floats(V * C), wpe = r.floats(T * C), dout = r.floats(B * T * C)
        var out = [Float](repeating: .nan, count: B * T * C)
        embeddingForward(out: &out, tokens: tokens, stride: stride, wte: wte, wpe: wpe, B: B, T: T, C: C, V: V)
        assertClose(out, Ref.embedding(tokens, stride: stride, wte: doubles(wte), wpe: doubles(wpe), B: B, T: T, C: C), atol: 1e-7, "embedding")

        let base = r.floats(V * C)          // dwte accumulates (the tied head wrote it first)
        var dwte = base
        var dwpe = [Float](repeating: .nan, count: T * C)   // overwritten
        embeddingBackward(dwte: &dwte, dwpe: &dwpe, dout: dout, tokens: tokens, stride: stride, B: B, T: T, C: C)
        let added = zip(dwte, base).map { $0 - $1 }
        _ = assertGradient("dwte", at: wte, analytic: added, atol: 1e-6) {
            dot(Ref.embedding(tokens, stride: stride, wte: $0, wpe: doubles(wpe), B: B, T: T, C: C), dout)
        }
        _ = assertGradient("dwpe", at: wpe, analytic: dwpe, atol: 1e-6) {
            dot(Ref.embedding(tokens, stride: stride, wte: doubles(wte), wpe: $0, B: B, T: T, C: C), dout)
        }
    }

    func testLayerNorm() {
        let (N, C) = (3, 8)
        var r = TestRandom(seed: 2)
        let x = r.floats(N * C, -2, 3), w = r.floats(C, 0.5, 1.5), dout = r.floats(N * C)
        var out = [Float](repeating: .nan, count: N * C)
        var mean = [Float](repeating: .nan, count: N), rstd = mean
        layerNormForward(out: &out, mean: &mean, rstd: &rstd, x: x, w: w, N: N, C: C)
        assertClose(out, Ref.layerNorm(doubles(x), w: doubles(w), N: N, C: C), atol: 2e-6, "layerNorm")

        let base = r.floats(N * C)          // dx accumulates into the residual gradient
        var dx = base
        var dw = [Float](repeating: .nan, count: C)
        layerNormBackward(dx: &dx, dw: &dw, dout: dout, x: x, w: w, mean: mean, rstd: rstd, N: N, C: C)
        _ = assertGradient("dx", at: x, analytic: zip(dx, base).map { $0 - $1 }, atol: 2e-6) {
            dot(Ref.layerNorm($0, w: doubles(w), N: N, C: C), dout)
        }
        _ = assertGradient("dw", at: w, analytic: dw, atol: 2e-6) {
            dot(Ref.layerNorm(doubles(x), w: $0, N: N, C: C), dout)
        }
    }

    /// The backward on 2 threads (its row blocks split; C = 21 leaves a ragged last vector) is
    /// bitwise the 1-thread backward, and that one matches finite differences (above).
    func testLayerNormBackwardDoesNotDependOnThreads() {
        let (N, C) = (7, 21)
        var r = TestRandom(seed: 12)
        let x = r.floats(N * C, -2, 3), w = r.floats(C, 0.5, 1.5), dout = r.floats(N * C), base = r.floats(N * C)
        var out = [Float](repeating: .nan, count: N * C)
        var mean = [Float](repeating: .nan, count: N), rstd = mean
        layerNormForward(out: &out, mean: &mean, rstd: &rstd, x: x, w: w, N: N, C: C)
        var results: [[Float]] = []
        for threads in [1, 2] {
            ComputeThreads.set(threads)
            defer { ComputeThreads.set(1) }
            var dx = base, dw = [Float](repeating: .nan, count: C)
            layerNormBackward(dx: &dx, dw: &dw, dout: dout, x: x, w: w, mean: mean, rstd: rstd, N: N, C: C)
            results.append(dx + dw)
        }
        XCTAssertFalse(results[0].contains { $0.isNaN })
        XCTAssertEqual(results[0], results[1])
        _ = assertGradient("dw", at: w, analytic: Array(results[1][(N * C)...]), atol: 2e-6) {
            dot(Ref.layerNorm(doubles(x), w: $0, N: N, C: C), dout)
        }
    }

    func testLinear() {
        let (N, I, O) = (3, 5, 4)
        var r = TestRandom(seed: 3)
        let x = r.floats(N * I), w = r.floats(O * I), dout = r.floats(N * O)
        var out = [Float](repeating: .nan, count: N * O)
        linearForward(out: &out, x: x, w: w, N: N, I: I, O: O)
        assertClose(out, Ref.linear(doubles(x), w: doubles(w), N: N, I: I, O: O), atol: 1e-6, "linear")
        let res = r.floats(N * O)
        var withResidual = [Float](repeating: .nan, count: N * O)
        linearForward(out: &withResidual, x: x, w: w, N: N, I: I, O: O, residual: res)
        assertClose(withResidual, zip(Ref.linear(doubles(x), w: doubles(w), N: N, I: I, O: O), res).map { $0 + Double($1) },
                    atol: 1e-6, "linear + residual")
        var inPlace = res
        inPlace.withUnsafeMutableBufferPointer { linearForward(out: $0.baseAddress!, x: x, w: w, N: N, I: I, O: O, residual: UnsafePointer($0.baseAddress!)) }
        XCTAssertEqual(inPlace, withResidual, "residual may be out itself")

        for accumulate in [false, true] {
            let base = accumulate ? r.floats(N * I) : [Float](repeating: .nan, count: N * I)
            var dx = base
            var dw = [Float](repeating: .nan, count: O * I)
            linearBackward(dx: &dx, dw: &dw, dout: dout, x: x, w: w, N: N, I: I, O: O, accumulate: accumulate)
            let added = accumulate ? zip(dx, base).map { $0 - $1 } : dx
            _ = assertGradient("dx accumulate=\(accumulate)", at: x, analytic: added, atol: 1e-6) {
                dot(Ref.linear($0, w: doubles(w), N: N, I: I, O: O), dout)
            }
            _ = assertGradient("dw", at: w, analytic: dw, atol: 1e-6) {
                dot(Ref.linear(doubles(x), w: $0, N: N, I: I, O: O), dout)
            }
        }
    }

    func testGELU() {
        var r = TestRandom(seed: 4)
        let x = r.floats(61, -6, 6) + [0, -0.5, 0.5]
        let dout = r.floats(x.count)
        var out = [Float](repeating: .nan, count: x.count)
        geluForward(out: &out, x: x, count: x.count)
        assertClose(out, Ref.gelu(doubles(x)), atol: 2e-6, "gelu")
        var dx = [Float](repeating: .nan, count: x.count)
        geluBackward(dx: &dx, x: x, dout: dout, count: x.count)
        _ = assertGradient("gelu", at: x, analytic: dx, atol: 1e-6) { dot(Ref.gelu($0), dout) }
    }

    /// The fused attention: forward against the Double reference and dqkv against finite
    /// differences (at `only`), with query and key tiles of `tile` rows.
    func checkAttention(B: Int, T: Int, C: Int, NH: Int, seed: UInt64, tile: Int = attentionTile, only: [Int]? = nil) {
        var r = TestRandom(seed: seed)
        let qkv = r.floats(B * T * 3 * C, -2, 2), dout = r.floats(B * T * C)
        let (out, lse) = fusedAttention(qkv, B: B, T: T, C: C, NH: NH, tile: tile)
        assertClose(out, Ref.attention(doubles(qkv), B: B, T: T, C: C, NH: NH), atol: 2e-6, "attention")
        let dqkv = fusedAttentionBackward(dout, qkv: qkv, out: out, lse: lse, B: B, T: T, C: C, NH: NH, tile: tile)
        _ = assertGradient("dqkv", at: qkv, analytic: dqkv, atol: 2e-6, only: only) {
            dot(Ref.attention($0, B: B, T: T, C: C, NH: NH), dout)
        }
    }

    /// T = 5 in one tile and in tiles of 2 (three query tiles, the last ragged; six tile pairs of nine).
    func testAttentionWithCausalMask() {
        checkAttention(B: 2, T: 5, C: 8, NH: 2, seed: 5)
        checkAttention(B: 2, T: 5, C: 8, NH: 2, seed: 5, tile: 2)
    }

    /// T = 70: two tiles of 64 rows, the second ragged (6). Every 7th input is checked (rows in
    /// both tiles; q, k and v): the Double reference is slow in debug builds.
    func testAttentionAcrossTiles() {
        checkAttention(B: 1, T: 70, C: 2, NH: 1, seed: 8, only: Array(stride(from: 0, to: 70 * 6, by: 7)))
    }

    func testCrossEntropy() {
        let (B, T, V) = (2, 3, 6)
        var r = TestRandom(seed: 6)
        let logits = r.floats(B * T * V, -3, 3)
        let tokens = r.tokens(B * (T + 1), below: V)
        let dscale: Float = 1 / Float(B * T)
        var z = logits
        let loss = crossEntropy(logits: &z, tokens: tokens, stride: T + 1, B: B, T: T, V: V, dscale: nil)
        XCTAssertEqual(z, logits, "no dscale: logits untouched")
        let want = Ref.crossEntropy(doubles(logits), tokens: tokens, stride: T + 1, B: B, T: T, V: V)
        XCTAssertEqual(loss, want, accuracy: 1e-5 * want)
        let loss2 = crossEntropy(logits: &z, tokens: tokens, stride: T + 1, B: B, T: T, V: V, dscale: dscale)
        XCTAssertEqual(loss2, loss)
        _ = assertGradient("dlogits", at: logits, analytic: z, atol: 1e-7) {
            Double(dscale) * Ref.crossEntropy($0, tokens: tokens, stride: T + 1, B: B, T: T, V: V)
        }
    }

    func testCrossEntropyIsStableForHugeLogits() {
        var z: [Float] = [1000, 0, -1000, 50, 50, 50]
        let tokens: [UInt16] = [9, 0, 9, 2]            // targets 0 and 2, one position per row
        let loss = crossEntropy(logits: &z, tokens: tokens, stride: 2, B: 2, T: 1, V: 3, dscale: 0.5)
        XCTAssertEqual(loss, log(3.0), accuracy: 1e-6)  // row 0: 0, row 1: ln 3
        XCTAssertTrue(z.allSatisfy { $0.isFinite })
        XCTAssertEqual(z[0], 0, accuracy: 1e-7)
        XCTAssertEqual(z[5], (1.0 / 3 - 1) / 2, accuracy: 1e-6)
    }

    /// The tied output layer and the embedding share wte: the head OVERWRITES dwte, the embedding
    /// backward ADDS to it, in that order (as GPT.forwardBackward runs them).
    func testTiedHeadAndEmbeddingShareWte() {
        let (B, T, C, V) = (2, 3, 4, 5)
        let N = B * T
        var r = TestRandom(seed: 7)
        let wte = r.floats(V * C), wpe = r.floats(T * C), x = r.floats(N * C, -2, 2), demb = r.floats(N * C)
        let tokens = r.tokens(B * (T + 1), below: V)
        func loss(_ wte: [Double], _ x: [Double]) -> Double {
            Ref.crossEntropy(Ref.linear(x, w: wte, N: N, I: C, O: V), tokens: tokens, stride: T + 1, B: B, T: T, V: V) / Double(N)
                + dot(Ref.embedding(tokens, stride: T + 1, wte: wte, wpe: doubles(wpe), B: B, T: T, C: C), demb)
        }
        var logits = [Float](repeating: .nan, count: N * V)
        linearForward(out: &logits, x: x, w: wte, N: N, I: C, O: V)
        _ = crossEntropy(logits: &logits, tokens: tokens, stride: T + 1, B: B, T: T, V: V, dscale: 1 / Float(N))
        var dwte = [Float](repeating: .nan, count: V * C)
        var dx = [Float](repeating: .nan, count: N * C)
        var dwpe = [Float](repeating: .nan, count: T * C)
        linearBackward(dx: &dx, dw: &dwte, dout: logits, x: x, w: wte, N: N, I: C, O: V, accumulate: false)
        embeddingBackward(dwte: &dwte, dwpe: &dwpe, dout: demb, tokens: tokens, stride: T + 1, B: B, T: T, C: C)
        _ = assertGradient("dwte", at: wte, analytic: dwte, atol: 1e-6) { loss($0, doubles(x)) }
        _ = assertGradient("dx", at: x, analytic: dx, atol: 1e-6) { loss(doubles(wte), $0) }
    }
}

import XCTest
@testable import Model

/// The fused attention (Attention.swift) against the plain kernels it replaced
/// (PlainAttention.swift), element by element, forward and backward; its causality and
/// determinism. Finite differences against the Double reference: GPTLayerTests.checkAttention.
///
/// Tolerance: both are fp32 with the same exp; they differ in summation order (online
/// softmax, per-tile sums) and in where 1/l is applied, a few ulps per term. Inputs in
/// [-2, 2]: |fused - plain| <= 4e-6 (1 + |plain|); the worst seen is 7.1e-7 (dqkv at
/// T = 200), 4.4e-7 at T = 1024 (LION_DIST_VERBOSE=1 prints them).
final class GPTAttentionTests: XCTestCase {
    override func setUp() { ComputeThreads.set(1) }

    static let tolerance: Float = 4e-6

    /// max |got - want| / (1 + |want|) (NaN counts as infinite) within the tolerance.
    func assertClose(_ got: [Float], _ want: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        var worst: Float = 0, at = 0
        for (i, (g, w)) in zip(got, want).enumerated() {
            let e = g.isNaN || w.isNaN ? Float.infinity : abs(g - w) / (1 + abs(w))
            if e > worst { (worst, at) = (e, i) }
        }
        XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(what): at \(at) fused \(got[at]), plain \(want[at])", file: file, line: line)
        if ProcessInfo.processInfo.environment["LION_DIST_VERBOSE"] != nil { print("\(what): worst relative difference \(worst)") }
    }

    func plain(_ qkv: [Float], _ dout: [Float], B: Int, T: Int, C: Int, NH: Int) -> (out: [Float], dqkv: [Float]) {
        var out = [Float](repeating: .nan, count: B * T * C)
        var att = [Float](repeating: .nan, count: B * NH * T * T)
        plainAttentionForward(out: &out, att: &att, qkv: qkv, B: B, T: T, C: C, NH: NH)
        var dqkv = [Float](repeating: .nan, count: B * T * 3 * C)
        var scratch = [Float](repeating: .nan, count: B * NH * T * T)
        plainAttentionBackward(dqkv: &dqkv, scratch: &scratch, dout: dout, qkv: qkv, att: att, B: B, T: T, C: C, NH: NH)
        return (out, dqkv)
    }

    func compare(B: Int, T: Int, C: Int, NH: Int, tile: Int = attentionTile, seed: UInt64,
                 file: StaticString = #filePath, line: UInt = #line) {
        var r = TestRandom(seed: seed)
        let qkv = r.floats(B * T * 3 * C, -2, 2), dout = r.floats(B * T * C)
        let want = plain(qkv, dout, B: B, T: T, C: C, NH: NH)
        let (out, lse) = fusedAttention(qkv, B: B, T: T, C: C, NH: NH, tile: tile)
        let dqkv = fusedAttentionBackward(dout, qkv: qkv, out: out, lse: lse, B: B, T: T, C: C, NH: NH, tile: tile)
        let shape = "B\(B) T\(T) C\(C) NH\(NH) tile \(tile)"
        assertClose(out, want.out, "out, " + shape, file: file, line: line)
        assertClose(dqkv, want.dqkv, "dqkv, " + shape, file: file, line: line)
    }

    func testMatchesThePlainKernel() {
        compare(B: 2, T: 1, C: 8, NH: 2, seed: 11)                  // one position: out = v
        compare(B: 2, T: 5, C: 8, NH: 2, seed: 12)
        compare(B: 1, T: 64, C: 32, NH: 2, seed: 13)                // exactly one tile
        compare(B: 1, T: 65, C: 32, NH: 2, seed: 14)                // a tile and one row
        compare(B: 2, T: 200, C: 48, NH: 3, seed: 15)               // 4 tiles, the last of 8 rows
        compare(B: 1, T: 37, C: 12, NH: 3, tile: 8, seed: 16)       // many tiles, hs 4 (SIMD tails)
        compare(B: 1, T: 24, C: 16, NH: 1, tile: 8, seed: 17)       // T a multiple of the tile
    }

    /// T = 1024 with small heads (hs 4): 16 query tiles, 136 tile pairs per head.
    func testMatchesThePlainKernelAtT1024() {
        compare(B: 1, T: 1024, C: 8, NH: 2, seed: 18)
    }

    /// What row i gives depends on positions 0...i only, bit for bit: later q, k, v (huge here)
    /// change nothing before them, also when they share a tile.
    func testCausalMask() {
        let (B, T, C, NH, t) = (1, 40, 8, 2, 30)
        for tile in [attentionTile, 16] {
            var r = TestRandom(seed: 19)
            let qkv = r.floats(B * T * 3 * C, -2, 2)
            var changed = qkv
            for i in (t + 1) * 3 * C..<(T * 3 * C) { changed[i] = 1e4 * (changed[i] + 3) }
            let a = fusedAttention(qkv, B: B, T: T, C: C, NH: NH, tile: tile)
            let b = fusedAttention(changed, B: B, T: T, C: C, NH: NH, tile: tile)
            XCTAssertEqual(a.out[0..<((t + 1) * C)], b.out[0..<((t + 1) * C)], "tile \(tile)")
            XCTAssertNotEqual(a.out[((t + 1) * C)...], b.out[((t + 1) * C)...], "tile \(tile): later rows did change")
        }
    }

    /// The saved statistic is the logsumexp of each row's causal scores (checked in Double).
    func testRowStatisticIsTheLogSumExp() {
        let (B, T, C, NH) = (1, 70, 8, 2)
        let hs = C / NH
        var r = TestRandom(seed: 20)
        let qkv = r.floats(B * T * 3 * C, -2, 2)
        let (_, lse) = fusedAttention(qkv, B: B, T: T, C: C, NH: NH)
        for h in 0..<NH {
            for i in 0..<T {
                func score(_ j: Int) -> Double {
                    var dot = 0.0
                    for d in 0..<hs { dot += Double(qkv[i * 3 * C + h * hs + d]) * Double(qkv[j * 3 * C + C + h * hs + d]) }
                    return dot / Double(hs).squareRoot()
                }
                let s = (0...i).map(score)
                let m = s.max()!
                let want = m + log(s.reduce(0) { $0 + exp($1 - m) })
                XCTAssertEqual(Double(lse[h * T + i]), want, accuracy: 1e-5 * (1 + abs(want)), "head \(h) row \(i)")
            }
        }
    }

    /// Two runs are bitwise equal on 2 threads, and equal to one thread's (each (b, h) item
    /// runs on one thread in a fixed order).
    func testDeterministicAcrossRunsAndThreads() {
        let (B, T, C, NH) = (3, 150, 24, 3)
        var r = TestRandom(seed: 21)
        let qkv = r.floats(B * T * 3 * C, -2, 2), dout = r.floats(B * T * C)
        func run() -> ([Float], [Float], [Float]) {
            let (out, lse) = fusedAttention(qkv, B: B, T: T, C: C, NH: NH)
            return (out, lse, fusedAttentionBackward(dout, qkv: qkv, out: out, lse: lse, B: B, T: T, C: C, NH: NH))
        }
        let one = run()
        ComputeThreads.set(2)
        defer { ComputeThreads.set(1) }
        let first = run(), second = run()
        XCTAssertTrue(first == second, "two runs on 2 threads")
        XCTAssertTrue(first == one, "2 threads against 1")
    }
}

/// The fused forward over arrays: (out (B, T, C), lse (B, NH, T)), scratch for the current threads.
func fusedAttention(_ qkv: [Float], B: Int, T: Int, C: Int, NH: Int, tile: Int = attentionTile) -> (out: [Float], lse: [Float]) {
    var out = [Float](repeating: .nan, count: B * T * C)
    var lse = [Float](repeating: .nan, count: B * NH * T)
    let slots = ComputeThreads.count
    var scratch = [Float](repeating: .nan, count: slots * attentionScratchFloats(T: T, headSize: C / NH, tile: tile))
    attentionForward(out: &out, lse: &lse, qkv: qkv, scratch: &scratch, slots: slots, B: B, T: T, C: C, NH: NH, tile: tile)
    return (out, lse)
}

/// The fused backward over arrays: dqkv (B, T, 3C).
func fusedAttentionBackward(_ dout: [Float], qkv: [Float], out: [Float], lse: [Float], B: Int, T: Int, C: Int, NH: Int,
                            tile: Int = attentionTile) -> [Float] {
    var dqkv = [Float](repeating: .nan, count: B * T * 3 * C)
    let slots = ComputeThreads.count
    var scratch = [Float](repeating: .nan, count: slots * attentionScratchFloats(T: T, headSize: C / NH, tile: tile))
    attentionBackward(dqkv: &dqkv, dout: dout, qkv: qkv, out: out, lse: lse, scratch: &scratch, slots: slots,
                      B: B, T: T, C: C, NH: NH, tile: tile)
    return dqkv
}

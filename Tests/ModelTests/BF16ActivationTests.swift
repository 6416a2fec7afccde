import XCTest
import DeterministicRandom
@testable import Model

/// The bf16 activation kernels (BF16Activations.swift, the bf16 attention, bf16-output
/// products) element by element against the fp32 kernels.
///
/// Tolerances, stated: LayerNorm and GELU in bf16 run the fp32 kernel on the widened input and
/// round its output once, so they are bitwise equal to bf16(fp32 kernel(widened input)); against
/// the fp32 kernel on the unrounded input, GELU is within 2^-8 (1.2 |x| + |y|) (bf16's unit
/// roundoff is 2^-8, 8 significant bits: input rounding 2^-8 |x| through a slope below 1.13,
/// output rounding 2^-8 |y|). The bf16 attention against the fp32 kernel on the same
/// (bf16-exact) operands: its output within 2^-8 (|out| + sum_j p_j |v_j|) (the output's
/// rounding, and that of the probabilities in p v) plus the fp32 kernels' 4e-6 (1 + |out|)
/// (GPTAttentionTests); lse within 4e-6 (1 + |lse|) (the scores' products are exact-operand
/// fp32 sums either way); dqkv, whose products take the rounded p, dp's gradient and dout,
/// within 2^-4 (|dqkv| + rms(dqkv)) per element and 2^-7 of its norm overall (measured: 0.2%
/// of the norm, the unit roundoff of one rounded operand; up to 2.4% of |dqkv| + rms).
/// A bf16-output product: within 2^-8 |C| of the fp32-output product plus twice the fp32
/// summation bound (2K + 4) 2^-24 sum_k |a||b| (BF16GEMMTests).
final class BF16ActivationTests: XCTestCase {
    override func setUp() { ComputeThreads.set(1) }
    override func tearDown() { ComputeThreads.set(1) }

    func narrow(_ x: [Float]) -> [UInt16] {
        var h = [UInt16](repeating: 0, count: x.count)
        BF16Convert.narrow(x, to: &h, count: x.count)
        return h
    }

    func widen(_ h: [UInt16]) -> [Float] { h.map(BF16Convert.widen) }

    /// Widening is exact (the bits shifted up) at every length and tail, including specials.
    /// Both bodies where the CPU has AVX-512 (its kernel and the portable loop).
    func testWidenIsExactAtAllLengths() {
        var rng = SplitMix64(seed: 5)
        for n in 0...41 {
            var h = (0..<n).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
            if n > 3 { h[0] = 0x7F80; h[1] = 0xFF80; h[2] = 0x8000; h[3] = 0x0001 }   // +-inf, -0, a subnormal
            for portable in [false, true] {
                var got = [Float](repeating: .nan, count: n + 1)
                if portable {
                    BF16Convert.widenPortable(h, to: &got, count: n)
                } else {
                    BF16Convert.widenOnThisThread(h, to: &got, count: n)
                }
                for i in 0..<n { XCTAssertEqual(got[i].bitPattern, UInt32(h[i]) << 16, "n \(n) [\(i)] portable \(portable)") }
                XCTAssertTrue(got[n].isNaN, "wrote past count \(n), portable \(portable)")
            }
        }
    }

    /// LayerNorm written in bf16: bf16 of the fp32 kernel's output, bit for bit, the same mean
    /// and rstd; row counts that split into chunks unevenly, C with a SIMD tail, 1 and 2 threads.
    /// Both bodies where the CPU has AVX-512 (narrowed in registers, and per chunk through scratch).
    func testLayerNormBF16IsTheFP32OutputRoundedOnce() {
        forEachKernelBody { _ in checkLayerNormBF16() }
    }

    private func checkLayerNormBF16() {
        var r = TestRandom(seed: 8)
        for (N, C) in [(37, 13), (11, 768), (70, 64)] {
            let x = r.floats(N * C, -3, 3), w = r.floats(C, 0.5, 1.5)
            var out32 = [Float](repeating: 0, count: N * C), mean32 = [Float](repeating: 0, count: N), rstd32 = mean32
            layerNormForward(out: &out32, mean: &mean32, rstd: &rstd32, x: x, w: w, N: N, C: C)
            for threads in [1, 2] {
                ComputeThreads.set(threads)
                let out16 = ActivationBuffer(count: N * C, dtype: .bf16)
                var mean = [Float](repeating: 0, count: N), rstd = mean
                layerNormForward(out: out16.pointer, mean: &mean, rstd: &rstd, x: x, w: w, N: N, C: C)
                guard case .bf16(let o) = out16.pointer else { return XCTFail("not bf16") }
                XCTAssertEqual(Array(UnsafeBufferPointer(start: o, count: N * C)), narrow(out32), "N \(N) C \(C) threads \(threads) avx512 \(kernelsUseAVX512)")
                XCTAssertEqual(mean, mean32)
                XCTAssertEqual(rstd, rstd32)
            }
        }
    }

    /// GELU from and to bf16: bit for bit bf16(gelu(widened x)); its backward from bf16 x is the
    /// fp32 backward on the widened x; against fp32 GELU on the unrounded x within the bound.
    /// Both bodies where the CPU has AVX-512 (the fused kernels and the chunks through scratch).
    func testGELUBF16AgainstTheFP32Kernel() {
        forEachKernelBody { _ in checkGELUBF16() }
    }

    private func checkGELUBF16() {
        var r = TestRandom(seed: 9)
        let n = 3 * 4096 + 1001   // several chunks and a tail
        let x = r.floats(n, -6, 6), dout = r.floats(n)
        let x16 = narrow(x), xr = widen(x16)
        var ref = [Float](repeating: 0, count: n), y32 = ref, dref = ref
        geluForward(out: &ref, x: xr, count: n)
        geluForward(out: &y32, x: x, count: n)
        geluBackward(dx: &dref, x: xr, dout: dout, count: n)
        for threads in [1, 2] {
            ComputeThreads.set(threads)
            let xb = ActivationBuffer(count: n, dtype: .bf16), yb = ActivationBuffer(count: n, dtype: .bf16)
            guard case .bf16(let xp) = xb.pointer, case .bf16(let yp) = yb.pointer else { return XCTFail("not bf16") }
            xp.update(from: x16, count: n)
            geluForward(out: yb.pointer, x: xb.pointer, count: n)
            let y16 = Array(UnsafeBufferPointer(start: yp, count: n))
            XCTAssertEqual(y16, narrow(ref), "threads \(threads) avx512 \(kernelsUseAVX512)")
            var dx = [Float](repeating: 0, count: n)
            geluBackward(dx: &dx, x: xb.pointer, dout: dout, count: n)
            XCTAssertEqual(dx, dref, "threads \(threads) avx512 \(kernelsUseAVX512)")
            for i in 0..<n {
                let tol = 0x1p-8 * (1.2 * abs(x[i]) + abs(y32[i]))
                XCTAssertEqual(BF16Convert.widen(y16[i]), y32[i], accuracy: tol, "gelu(\(x[i]))")
            }
        }
    }

    /// bf16 attention (qkv and out bf16, bf16 products) against the fp32 kernel on the same
    /// widened operands, causal tiles at T below, at and above a tile, hs 8, 32 and 64.
    func testAttentionBF16AgainstTheFP32Kernel() throws {
        try XCTSkipUnless(BF16Support.isNative, BF16Support.refusalReason() ?? "")
        for (B, T, C, NH) in [(2, 150, 24, 3), (1, 70, 64, 2), (1, 1, 16, 2), (1, 256, 128, 2)] {
            var r = TestRandom(seed: UInt64(T))
            let qkv16 = narrow(r.floats(B * T * 3 * C, -2, 2)), dout = r.floats(B * T * C)
            let qkv = widen(qkv16)
            let (out32, lse32) = fusedAttention(qkv, B: B, T: T, C: C, NH: NH)
            // sum_j p_ij |v_j|: what rounding p to bf16 can move the output by, 2^-8 of it at most
            var absV = qkv
            for row in 0..<(B * T) { for c in 0..<C { absV[row * 3 * C + 2 * C + c] = abs(absV[row * 3 * C + 2 * C + c]) } }
            let (weighted, _) = fusedAttention(absV, B: B, T: T, C: C, NH: NH)
            let (out16, lse16, dqkv16) = bf16Attention(qkv16, dout, B: B, T: T, C: C, NH: NH)
            let out = widen(out16)
            for i in out.indices {
                XCTAssertEqual(out[i], out32[i], accuracy: 0x1p-8 * (abs(out32[i]) + weighted[i]) + 4e-6 * (1 + abs(out32[i])), "out[\(i)] T \(T)")
            }
            for i in lse32.indices { XCTAssertEqual(lse16[i], lse32[i], accuracy: 4e-6 * (1 + abs(lse32[i])), "lse[\(i)]") }
            let dref = fusedAttentionBackward(dout, qkv: qkv, out: out, lse: lse16, B: B, T: T, C: C, NH: NH)
            let refNorm = dref.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
            let rms = Float(refNorm / Double(dref.count).squareRoot())
            var errNorm = 0.0
            for i in dref.indices {
                XCTAssertEqual(dqkv16[i], dref[i], accuracy: 0x1p-4 * (abs(dref[i]) + rms), "dqkv[\(i)] T \(T)")
                errNorm += Double((dqkv16[i] - dref[i]) * (dqkv16[i] - dref[i]))
            }
            XCTAssertLessThanOrEqual(errNorm.squareRoot(), 0x1p-7 * refNorm, "dqkv's relative error T \(T)")
        }
    }

    /// The bf16 attention is bitwise deterministic: two runs on 2 threads, and 1 thread, agree.
    func testAttentionBF16Deterministic() throws {
        try XCTSkipUnless(BF16Support.isNative, BF16Support.refusalReason() ?? "")
        let (B, T, C, NH) = (3, 150, 24, 3)
        var r = TestRandom(seed: 21)
        let qkv16 = narrow(r.floats(B * T * 3 * C, -2, 2)), dout = r.floats(B * T * C)
        let one = bf16Attention(qkv16, dout, B: B, T: T, C: C, NH: NH)
        ComputeThreads.set(2)
        let first = bf16Attention(qkv16, dout, B: B, T: T, C: C, NH: NH), second = bf16Attention(qkv16, dout, B: B, T: T, C: C, NH: NH)
        XCTAssertTrue(first == second, "two runs on 2 threads")
        XCTAssertTrue(first == one, "2 threads against 1")
    }

    /// (out, lse, dqkv) of the bf16 attention forward and backward, scratch and engines for the current threads.
    func bf16Attention(_ qkv: [UInt16], _ dout: [Float], B: Int, T: Int, C: Int, NH: Int) -> ([UInt16], [Float], [Float]) {
        let slots = ComputeThreads.count
        let engines = (0..<slots).map { _ in BF16GEMM(threads: 1) }[...]
        var scratch = [Float](repeating: .nan, count: slots * bf16AttentionScratchFloats(T: T, headSize: C / NH))
        var out = [UInt16](repeating: 0xFFFF, count: B * T * C), lse = [Float](repeating: .nan, count: B * NH * T)
        var dqkv = [Float](repeating: .nan, count: B * T * 3 * C)
        attentionForward(out: &out, lse: &lse, qkv: qkv, scratch: &scratch, engines: engines, slots: slots, B: B, T: T, C: C, NH: NH)
        attentionBackward(dqkv: &dqkv, dout: dout, qkv: qkv, out: out, lse: lse, scratch: &scratch, engines: engines, slots: slots,
                          B: B, T: T, C: C, NH: NH)
        return (out, lse, dqkv)
    }

    /// A product with a bf16 output (c_attn, c_fc) against the same product with an fp32 output,
    /// on one engine and split over 2 threads; c_attn's and the MLP's shapes and odd ones.
    func testBF16OutputProductIsTheFP32ProductRoundedOnce() throws {
        try XCTSkipUnless(BF16Support.isNative, BF16Support.refusalReason() ?? "")
        for (n, i, o) in [(67, 45, 93), (1, 7, 3), (256, 384, 1152), (96, 384, 1536)] {
            var r = TestRandom(seed: UInt64(n * o))
            let x16 = narrow(r.floats(n * i, -2, 2)), w16 = narrow(r.floats(o * i, -2, 2))
            var bound = [Float](repeating: 0, count: n * o)
            sgemm(false, true, M: n, N: o, K: i, widen(x16).map(abs), lda: i, widen(w16).map(abs), ldb: i, &bound, ldc: o, accumulate: false)
            for threads in [1, 2] {
                ComputeThreads.set(threads)
                let products = BF16SplitGEMM()
                var c32 = [Float](repeating: .nan, count: n * o), c16 = [UInt16](repeating: 0xFFFF, count: n * o)
                products.gemm(false, true, M: n, N: o, K: i, x16, lda: i, w16, ldb: i, &c32, ldc: o, accumulate: false)
                products.gemm(false, true, M: n, N: o, K: i, x16, lda: i, w16, ldb: i, &c16, ldc: o)
                for k in 0..<(n * o) {
                    let tol = 0x1p-8 * abs(c32[k]) + 2 * Float(2 * i + 4) * 0x1p-24 * bound[k]
                    XCTAssertEqual(BF16Convert.widen(c16[k]), c32[k], accuracy: tol, "(\(n), \(i), \(o)) [\(k)] threads \(threads)")
                }
            }
        }
    }
}

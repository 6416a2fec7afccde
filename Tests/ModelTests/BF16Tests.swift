import XCTest
import Basics
import CDNNL
import DeterministicRandom
import LionEngine
@testable import Model

/// fp32 -> bf16 narrowing element by element against LionEngine's scalar `BFloat16.fromFloat`
/// (an independent implementation), and oneDNN's bf16 matmul against OpenBLAS sgemm on the
/// same bf16-rounded operands, for every product pattern of the GPT.
final class BF16ConvertTests: XCTestCase {
    func narrowAll(_ x: [Float], portable: Bool = false) -> [UInt16] {
        var out = [UInt16](repeating: 0xDEAD, count: x.count + 1)  // one guard element past the end
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                if portable {
                    BF16Convert.narrowPortable(src.baseAddress!, to: dst.baseAddress!, count: x.count)
                } else {
                    BF16Convert.narrow(src.baseAddress!, to: dst.baseAddress!, count: x.count)
                }
            }
        }
        XCTAssertEqual(out.last, 0xDEAD, "wrote past count \(x.count)")
        return Array(out.dropLast())
    }

    func assertMatchesReference(_ x: [Float], file: StaticString = #filePath, line: UInt = #line) {
        for portable in [false, true] {
            let got = narrowAll(x, portable: portable)
            for (i, v) in x.enumerated() where got[i] != BFloat16.fromFloat(v) {
                XCTFail("n \(x.count) [\(i)] 0x\(String(v.bitPattern, radix: 16)) -> 0x\(String(got[i], radix: 16)), "
                        + "want 0x\(String(BFloat16.fromFloat(v), radix: 16)) (portable \(portable))", file: file, line: line)
                return
            }
        }
    }

    /// Ties to even, the rounding carry into the exponent, overflow to infinity, subnormals
    /// (rounded, not flushed), signed zeros, infinities and NaNs (every NaN stays NaN, even one
    /// whose payload lies only in the dropped low bits).
    func testSpecialValues() {
        let cases: [(UInt32, UInt16)] = [
            (0x3F80_8000, 0x3F80), (0x3F81_8000, 0x3F82), (0x3F80_8001, 0x3F81), (0x3F80_7FFF, 0x3F80),  // ties, just past
            (0xBF81_8000, 0xBF82), (0x3FFF_8000, 0x4000),                                                  // carry into exponent
            (0x7F7F_FFFF, 0x7F80), (0x7F7F_7FFF, 0x7F7F), (0xFF7F_FFFF, 0xFF80),                           // overflow to inf
            (0x0000_0001, 0x0000), (0x0000_8000, 0x0000), (0x0001_8000, 0x0002), (0x0000_8001, 0x0001),   // subnormals
            (0x007F_FFFF, 0x0080), (0x8000_8001, 0x8001), (0x0040_0000, 0x0040),
            (0x0000_0000, 0x0000), (0x8000_0000, 0x8000), (0x7F80_0000, 0x7F80), (0xFF80_0000, 0xFF80),
        ]
        let x = cases.map { Float(bitPattern: $0.0) }
        for portable in [false, true] {
            XCTAssertEqual(narrowAll(x, portable: portable), cases.map(\.1), "portable \(portable)")
        }
        let nans: [UInt32] = [0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0xFF80_0001, 0x7FFF_FFFF, 0x7F80_FFFF, 0x7FBF_FFFF]
        for portable in [false, true] {
            let got = narrowAll(nans.map { Float(bitPattern: $0) }, portable: portable)
            for (bits, h) in zip(nans, got) {
                XCTAssertTrue(BF16Convert.widen(h).isNaN, "0x\(String(bits, radix: 16)) -> 0x\(String(h, radix: 16)) is not NaN")
                XCTAssertEqual(h & 0x8000, UInt16(bits >> 16) & 0x8000, "sign of NaN 0x\(String(bits, radix: 16))")
            }
        }
        assertMatchesReference(x + nans.map { Float(bitPattern: $0) })
    }

    /// Random bit patterns (every class of value) at lengths around the 16-lane vectors, and one
    /// long enough to be split over threads with a ragged last chunk.
    func testRandomBitsAllLengths() {
        var rng = SplitMix64(seed: 0xBF16)
        for n in [0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 1000, 3 * BF16Convert.grain + 13] {
            let x = (0..<n).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
            assertMatchesReference(x)
        }
    }

    /// Ordinary activations (normal-sized values), where every element's low half decides.
    func testTypicalValues() {
        var rng = SplitMix64(seed: 7)
        assertMatchesReference((0..<4099).map { _ in Float(2 * rng.nextUnit() - 1) * 3 })
    }
}

final class BF16SupportTests: XCTestCase {
    func testNativeISAs() {
        XCTAssertTrue(BF16Support.isNative(dnnl_cpu_isa_avx512_core_bf16))
        XCTAssertTrue(BF16Support.isNative(dnnl_cpu_isa_avx512_core_amx))
        for isa in [dnnl_cpu_isa_avx2, dnnl_cpu_isa_avx2_vnni, dnnl_cpu_isa_avx512_core, dnnl_cpu_isa_avx512_core_vnni] {
            XCTAssertFalse(BF16Support.isNative(isa), BF16Support.name(isa))
        }
    }

    func testRefusalReasonNamesCPUAndISA() {
        XCTAssertNil(BF16Support.refusalReason(isa: dnnl_cpu_isa_avx512_core_amx, cpu: "X"))
        XCTAssertEqual(BF16Support.refusalReason(isa: dnnl_cpu_isa_avx2, cpu: "Intel(R) Xeon(R) CPU E5-2690 v4"),
                       "bf16 would be emulated on Intel(R) Xeon(R) CPU E5-2690 v4: oneDNN's ISA is avx2, native bf16 needs avx512_core_bf16 or AMX")
    }

    /// This machine: either native (then nil) or a reason that names its CPU.
    func testThisMachine() {
        let isa = BF16Support.effectiveISA
        print("oneDNN effective ISA \(BF16Support.name(isa)) on \(CPUInfo.current.modelName)")
        if BF16Support.isNative {
            XCTAssertNil(BF16Support.refusalReason())
        } else {
            XCTAssertTrue(BF16Support.refusalReason()?.contains(CPUInfo.current.modelName) ?? false)
        }
    }
}

/// oneDNN's bf16 products against OpenBLAS sgemm on the same operands: random fp32 values
/// narrowed to bf16 and widened back (exactly), so both multiply the very same numbers.
///
/// Tolerance, per element: |C - C_sgemm| <= (2K + 4) 2^-24 (|alpha| sum_k |a_ik||b_kj| + |C0_ij|).
/// bf16 x bf16 products are exact in fp32 (8 + 8 significant bits), so each side's only error
/// is its fp32 summation, at most K u sum|a||b| (u = 2^-24) in any order; two orders differ by
/// at most twice that, and the alpha scaling and the added C0 round a few more times. It is a
/// worst case: the errors measured stay below 1/50 of it (printed). A wrong layout,
/// stride, alpha or accumulation misses by O(1); operands not rounded alike on both sides miss
/// by ~2^-9 / sqrt(K) relative, over the bound for K up to a few hundred
/// (testBoundCatchesUnroundedOperands, K = 48).
final class BF16GEMMTests: XCTestCase {
    struct Case {
        var transA = false, transB = false
        var M: Int, N: Int, K: Int
        var lda: Int, ldb: Int, ldc: Int
        var alpha: Float = 1
        var accumulate = false
    }

    override func setUp() {
        // Not a skip: without native bf16 only the refusal can be checked (BF16SupportTests does).
        if !BF16Support.isNative { XCTAssertNotNil(BF16Support.refusalReason()) }
    }

    /// Random bf16-exact values in [-2, 2): (bf16 bits, their fp32 value).
    func operand(_ count: Int, _ rng: inout SplitMix64) -> ([UInt16], [Float]) {
        let x = (0..<count).map { _ in Float(4 * rng.nextUnit() - 2) }
        var h = [UInt16](repeating: 0, count: count)
        x.withUnsafeBufferPointer { s in h.withUnsafeMutableBufferPointer { BF16Convert.narrow(s.baseAddress!, to: $0.baseAddress!, count: count) } }
        return (h, h.map(BF16Convert.widen))
    }

    /// Runs one case through oneDNN and sgemm; returns the worst error as a fraction of the bound.
    @discardableResult
    func check(_ t: Case, _ gemm: BF16GEMM, unrounded: Bool = false, file: StaticString = #filePath, line: UInt = #line) -> Double {
        var rng = SplitMix64(seed: UInt64(t.M * 1_000_003 + t.N * 1009 + t.K))
        let aRows = t.transA ? t.K : t.M, bRows = t.transB ? t.N : t.K
        let (a16, a) = operand(aRows * t.lda, &rng)
        let (b16, b) = operand(bRows * t.ldb, &rng)
        let c0 = (0..<(t.M * t.ldc)).map { _ in Float(2 * rng.nextUnit() - 1) }
        var got = c0, want = c0, bound = [Float](repeating: 0, count: t.M * t.ldc)
        let aAbs = a.map(abs), bAbs = b.map(abs)
        // With `unrounded`, the reference multiplies operands that were never narrowed (a check of the check).
        let aRef = unrounded ? (0..<a.count).map { a[$0] + Float(rng.nextUnit() - 0.5) * abs(a[$0]) * 0x1p-8 } : a
        a16.withUnsafeBufferPointer { pa16 in b16.withUnsafeBufferPointer { pb16 in got.withUnsafeMutableBufferPointer { pc in
            gemm.gemm(t.transA, t.transB, M: t.M, N: t.N, K: t.K, alpha: t.alpha, pa16.baseAddress!, lda: t.lda,
                      pb16.baseAddress!, ldb: t.ldb, pc.baseAddress!, ldc: t.ldc, accumulate: t.accumulate)
        } } }
        aRef.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in want.withUnsafeMutableBufferPointer { pc in
            sgemm(t.transA, t.transB, M: t.M, N: t.N, K: t.K, alpha: t.alpha, pa.baseAddress!, lda: t.lda,
                  pb.baseAddress!, ldb: t.ldb, pc.baseAddress!, ldc: t.ldc, accumulate: t.accumulate)
        } } }
        aAbs.withUnsafeBufferPointer { pa in bAbs.withUnsafeBufferPointer { pb in bound.withUnsafeMutableBufferPointer { pc in
            sgemm(t.transA, t.transB, M: t.M, N: t.N, K: t.K, alpha: abs(t.alpha), pa.baseAddress!, lda: t.lda,
                  pb.baseAddress!, ldb: t.ldb, pc.baseAddress!, ldc: t.ldc, accumulate: false)
        } } }
        let u = 0x1p-24, factor = Double(2 * t.K + 4) * u
        var worst = 0.0
        for r in 0..<t.M {
            for j in 0..<t.ldc {
                let i = r * t.ldc + j
                if j >= t.N {  // the gap between C's rows is never written
                    if got[i].bitPattern != c0[i].bitPattern, !unrounded {
                        XCTFail("\(t): wrote C[\(r), \(j)] past N", file: file, line: line)
                        return .infinity
                    }
                    continue
                }
                let tol = factor * (Double(bound[i]) + (t.accumulate ? Double(abs(c0[i])) : 0))
                let err = abs(Double(got[i]) - Double(want[i]))
                worst = max(worst, tol > 0 ? err / tol : (err > 0 ? .infinity : 0))
                if err > tol, !unrounded {
                    XCTFail("\(t): C[\(r), \(j)] = \(got[i]), sgemm \(want[i]), |diff| \(err) > \(tol)", file: file, line: line)
                    return worst
                }
            }
        }
        return worst
    }

    /// The GPT's linear layer, out (N, O) = x (N, I) W^T with W (O, I), and its backward
    /// dw (O, I) = dout^T x, dx (N, I) = dout W (overwritten or accumulated); odd sizes, and
    /// the sizes of a 384-wide block (C 384, 4C 1536, 3C 1152).
    func testLinearForwardBackward() {
        let gemm = BF16GEMM(threads: 1)
        var worst = 0.0
        for (n, i, o) in [(67, 45, 93), (1, 7, 3), (128, 384, 1152), (96, 1536, 384), (64, 384, 1536)] {
            for acc in [false, true] {
                worst = max(worst, check(Case(transB: true, M: n, N: o, K: i, lda: i, ldb: i, ldc: o, accumulate: acc), gemm))  // forward (+ residual)
                worst = max(worst, check(Case(transA: true, M: o, N: i, K: n, lda: o, ldb: i, ldc: i, accumulate: acc), gemm))  // dw
                worst = max(worst, check(Case(M: n, N: i, K: o, lda: o, ldb: i, ldc: i, accumulate: acc), gemm))                // dx
            }
        }
        print("bf16 linear products: worst error \(worst) of the bound")
    }

    /// Attention's per-head products: q, k, v are (T, hs) column blocks of qkv (T, 3C), rows 3C
    /// apart; y and dy are (T, hs) blocks of (T, C); the scores (T, T) rows T apart; alpha is the
    /// 1/sqrt(hs) scale; both transposes with leading dimensions wider than the operand.
    func testAttentionStridedProducts() {
        let gemm = BF16GEMM(threads: 1)
        let T = 37, C = 48, hs = 12, r0 = 5, rows = T - r0, scale = 1 / Float(hs).squareRoot()
        for acc in [false, true] {
            check(Case(transB: true, M: rows, N: T, K: hs, lda: 3 * C, ldb: 3 * C, ldc: T, alpha: scale, accumulate: acc), gemm)  // q k^T
            check(Case(M: rows, N: hs, K: T, lda: T, ldb: 3 * C, ldc: C, accumulate: acc), gemm)                                 // att v
            check(Case(transB: true, M: rows, N: T, K: hs, lda: C, ldb: 3 * C, ldc: T, accumulate: acc), gemm)                   // dy v^T
            check(Case(transA: true, M: T, N: hs, K: rows, lda: T, ldb: C, ldc: 3 * C, accumulate: acc), gemm)                   // att^T dy
            check(Case(M: rows, N: hs, K: T, lda: T, ldb: 3 * C, ldc: 3 * C, alpha: scale, accumulate: acc), gemm)              // dq = s dS k
            check(Case(transA: true, M: T, N: hs, K: rows, lda: T, ldb: 3 * C, ldc: 3 * C, alpha: scale, accumulate: acc), gemm) // dk = s dS^T q
        }
    }

    /// alpha other than 1 (negative, and a power of two) with and without accumulation, at a size
    /// where oneDNN picks its blocked kernel; both transposes at once.
    func testAlphaAndBothTransposed() {
        let gemm = BF16GEMM(threads: 2)
        for alpha: Float in [0.125, -1.75] {
            for acc in [false, true] {
                check(Case(M: 64, N: 80, K: 96, lda: 96, ldb: 80, ldc: 80, alpha: alpha, accumulate: acc), gemm)
                check(Case(transA: true, transB: true, M: 33, N: 65, K: 129, lda: 40, ldb: 130, ldc: 70, alpha: alpha, accumulate: acc), gemm)
            }
        }
    }

    /// The tolerance is tight enough to see operands that skipped the bf16 rounding.
    func testBoundCatchesUnroundedOperands() {
        let worst = check(Case(transB: true, M: 32, N: 48, K: 48, lda: 48, ldb: 48, ldc: 48), BF16GEMM(threads: 1), unrounded: true)
        XCTAssertGreaterThan(worst, 10, "a 2^-9 perturbation of A must break the bound")
    }

    /// Empty products: K = 0 zeroes C (or leaves it when accumulating); M = 0 or N = 0 touch nothing.
    func testEmptyProducts() {
        let gemm = BF16GEMM(threads: 1)
        let a = [UInt16](repeating: 0x3F80, count: 16), b = a
        var c = [Float](repeating: 5, count: 16)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            gemm.gemm(false, false, M: 2, N: 3, K: 0, pa.baseAddress!, lda: 1, pb.baseAddress!, ldb: 3, pc.baseAddress!, ldc: 4, accumulate: true)
            XCTAssertEqual(Array(pc), [Float](repeating: 5, count: 16))
            gemm.gemm(false, false, M: 2, N: 3, K: 0, pa.baseAddress!, lda: 1, pb.baseAddress!, ldb: 3, pc.baseAddress!, ldc: 4, accumulate: false)
            XCTAssertEqual(Array(pc[0..<8]), [0, 0, 0, 5, 0, 0, 0, 5])
            gemm.gemm(false, false, M: 0, N: 3, K: 2, pa.baseAddress!, lda: 2, pb.baseAddress!, ldb: 3, pc.baseAddress!, ldc: 4, accumulate: false)
        } } }
        XCTAssertEqual(gemm.cachedPrimitives, 0)
    }

    /// One primitive per distinct product, reused; the thread count is part of the key; the
    /// kernel is oneDNN's native bf16 one, not its reference loops.
    func testPrimitiveCacheAndImplementation() {
        let gemm = BF16GEMM(threads: 1)
        let t = Case(transB: true, M: 64, N: 96, K: 48, lda: 48, ldb: 48, ldc: 96)
        for _ in 0..<3 { check(t, gemm) }
        XCTAssertEqual(gemm.cachedPrimitives, 1)
        gemm.threads = 2
        check(t, gemm)
        XCTAssertEqual(gemm.cachedPrimitives, 2)
        XCTAssertEqual(DNNLThreads.current, 2, "the product set the calling thread's OpenMP count")
        let impl = gemm.implementation(false, true, M: 64, N: 96, K: 48, lda: 48, ldb: 48, ldc: 96, accumulate: false)
        let strided = gemm.implementation(false, true, M: 32, N: 37, K: 12, lda: 144, ldb: 144, ldc: 37, accumulate: false)
        print("oneDNN bf16 matmul: \(impl) (contiguous), \(strided) (rows 3C apart)")
        if BF16Support.isNative {
            XCTAssertTrue(impl.contains("avx512_core_bf16") || impl.contains("amx"), impl)
            XCTAssertFalse(strided.hasPrefix("ref"), strided)
        }
    }

    /// Products on two threads at once, each with its own instance and one OpenMP thread, stay
    /// within the bound.
    func testConcurrentInstances() {
        let t = Case(transB: true, M: 96, N: 128, K: 384, lda: 384, ldb: 384, ldc: 128)
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let gemm = BF16GEMM(threads: 1)
            for _ in 0..<3 { check(t, gemm) }
        }
    }
}

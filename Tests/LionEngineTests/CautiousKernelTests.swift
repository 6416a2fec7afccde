import Basics
import XCTest
import LionEngine

/// Cautious Lion's two passes (`CautiousLionKernel.sign`, `.apply`) on every kernel path this
/// CPU supports, and `LocalOptimizer` running them over several tensors and groups, against
/// `Reference.cautiousLionStep` (written from lion-pytorch's formula), element by element, bit
/// for bit. `TestRandom` makes about 1 in 16 values exactly +-0, so c = b1*m + (1-b1)*g is 0
/// (sign 0: the element does not move) wherever both m and g are.
final class CautiousKernelTests: XCTestCase {
    var paths: [KernelPath] { KernelPath.allCases.filter(\.isSupported) }
    let lr: Float = 3e-4, wd: Float = 0.1, b1: Float = 0.9, b2: Float = 0.99, gradScale: Float = 0.5

    var k: LionStepConstants { LionStepConstants(lr: lr, beta1: b1, beta2: b2, weightDecay: wd, gradScale: gradScale) }

    /// The reference step over one tensor; returns (p, m, aligned).
    func reference(_ p0: [Float], _ m0: [Float], _ g: [Float], factor: Float) -> ([Float], [Float], Int) {
        var p = p0, m = m0
        let n = p.count
        let aligned = p.withUnsafeMutableBufferPointer { P in
            m.withUnsafeMutableBufferPointer { M in
                Reference.cautiousLionStep(params: P.baseAddress!, grads: g, m: M.baseAddress!, count: n, lr: lr,
                                           beta1: b1, beta2: b2, weightDecay: wd, factor: factor, gradScale: gradScale)
            }
        }
        return (p, m, aligned)
    }

    /// Both passes over one tensor of n elements whose bits start at `first`, fp32 state.
    func kernelFP32(_ p0: [Float], _ m0: [Float], _ g: [Float], factor: Float, first: Int, path: KernelPath) -> ([Float], [Float], Int) {
        var p = p0, m = m0
        let n = p.count, bits = CautiousBits(count: first + n + 7)
        let aligned = CautiousLionKernel.signFP32(grads: g, m: &m, bits: bits, first: first, count: n, k, path: path)
        let a = CautiousLionKernel.ApplyConstants(lr: lr, decay: k.decay, factor: factor, aligned: aligned, count: n)
        CautiousLionKernel.apply(params: &p, bits: bits, first: first, count: n, a, path: path)
        return (p, m, aligned)
    }

    /// p bit for bit where the scale's Float sum is exact (factors 0, 0.5, 1: every partial sum
    /// is a multiple of 0.5 below 2^23), else within one ulp of p plus lr * 1e-5: the reference
    /// sums n Float scales in order (relative error up to ~n * 2^-24, 8e-6 for n = 130), the engine
    /// forms the sum from the exact count and rounds once; the update is lr * (scale/mean).
    func assertP(_ a: [Float], _ b: [Float], factor: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard factor == 0.3 else { return assertBitEqual(a, b, what, file: file, line: line) }
        for (i, (x, y)) in zip(a, b).enumerated() where abs(x - y) > y.ulp + lr * 1e-5 {
            return XCTFail("\(what): element \(i): \(x) vs reference \(y)", file: file, line: line)
        }
    }

    /// Every length 0...130 (tails of the 16-lane and 64-bit blocks), bits starting on and off a
    /// word, factors 0, 0.5, 0.3 and 1, fp32 and bf16 state.
    func testEveryLengthAndOffsetMatchesReferenceBitForBit() {
        for path in paths {
            for n in 0...130 {
                var rng = TestRandom(seed: UInt64(n) &+ 900)
                let p = rng.floats(n), m = rng.floats(n, scale: 0.01), g = rng.floats(n)
                for factor: Float in [0, 0.5, 0.3, 1] {
                    let (pr, mr, ar) = reference(p, m, g, factor: factor)
                    for first in [0, 5, 63] {
                        let (pk, mk, ak) = kernelFP32(p, m, g, factor: factor, first: first, path: path)
                        let what = "\(path) n=\(n) factor \(factor) first \(first)"
                        XCTAssertEqual(ak, ar, "\(what): aligned count")
                        assertP(pk, pr, factor: factor, "\(what) fp32 p")
                        assertBitEqual(mk, mr, "\(what) fp32 m")
                    }
                    // bf16 state: the reference fed the widened momentum, its new m rounded.
                    var mh = m.map(BFloat16.fromFloat), ph = p
                    let (pw, mw, aw) = reference(p, mh.map(BFloat16.toFloat), g, factor: factor)
                    let bits = CautiousBits(count: n + 3)
                    let ak = CautiousLionKernel.signBF16(grads: g, m: &mh, bits: bits, first: 3, count: n, k, path: path)
                    CautiousLionKernel.apply(params: &ph, bits: bits, first: 3, count: n,
                                             .init(lr: lr, decay: k.decay, factor: factor, aligned: ak, count: n), path: path)
                    XCTAssertEqual(ak, aw, "\(path) n=\(n) factor \(factor) bf16 aligned count")
                    assertP(ph, pw, factor: factor, "\(path) n=\(n) factor \(factor) bf16 p")
                    assertEqual(mh, mw.map(BFloat16.fromFloat), "\(path) n=\(n) factor \(factor) bf16 m")
                }
            }
        }
    }

    /// The three bits of each element, from the definitions; sign(+-0) and NaN give no motion.
    func testBitsFollowTheDefinitions() {
        // c = 0.9*m + 0.05*g (gradScale 0.5): positive/aligned, negative/not, zero, NaN.
        let m: [Float] = [1, -1, 0, -0.0, 1, 0, .nan, 0]
        let g: [Float] = [1, 1, 0, 0, -100, -0.0, 1, 2]
        for path in paths {
            var mm = m
            let bits = CautiousBits(count: 8)
            let aligned = CautiousLionKernel.signFP32(grads: g, m: &mm, bits: bits, first: 0, count: 8, k, path: path)
            let positive = (0..<8).map { bits.bit(0, $0) }, moving = (0..<8).map { bits.bit(1, $0) }
            let isAligned = (0..<8).map { bits.bit(2, $0) }
            XCTAssertEqual(positive, [true, false, false, false, false, false, false, true], "\(path)")
            XCTAssertEqual(moving, [true, true, false, false, true, false, false, true], "\(path)")
            // 4: c = 0.9 - 5 < 0 with g < 0: aligned; 1: c < 0, g > 0: not.
            XCTAssertEqual(isAligned, [true, false, false, false, true, false, false, true], "\(path)")
            XCTAssertEqual(aligned, 3, "\(path)")
        }
    }

    /// Factor 1: every scale is 1, the mean 1, so lr*1 = lr: bitwise plain Lion.
    func testFactorOneIsPlainLionBitForBit() {
        for path in paths {
            var rng = TestRandom(seed: 77)
            let n = 1_003, p = rng.floats(n), m = rng.floats(n, scale: 0.01), g = rng.floats(n)
            var pl = p, ml = m
            LionKernel.updateFP32(params: &pl, grads: g, m: &ml, count: n, k, path: path)
            let (pc, mc, _) = kernelFP32(p, m, g, factor: 1, first: 0, path: path)
            assertBitEqual(pc, pl, "\(path) factor 1 p")
            assertBitEqual(mc, ml, "\(path) factor 1 m")
        }
    }

    /// `LocalOptimizer` with tensors across chunk boundaries and groups cutting a tensor, on 3
    /// threads, against the reference tensor by tensor (each group's decay applies to its part).
    func testLocalOptimizerTakesMeansPerTensor() {
        // Tensors 0..<40_001, 40_001..<110_000, 110_000..<110_003; padding 110_003..<110_016.
        let ranges = [0..<40_001, 40_001..<110_000, 110_000..<110_003]
        let count = 110_016
        for factor: Float in [0, 0.5] {
            for dtype in StateDType.allCases {
                var config = OptimizerConfig(kind: .lion, lr: lr, beta1: b1, beta2: b2, weightDecay: wd, stateDType: dtype,
                                             cautiousFactor: factor)
                config.weightDecay = wd
                let pool = ThreadPool(threads: 3)
                let opt = LocalOptimizer(config: config, count: count, pool: pool,
                                         tensors: TensorPieces(tensors: ranges, window: 0..<count))
                var rng = TestRandom(seed: 5)
                var p = rng.floats(count)
                for i in 110_003..<count { p[i] = 0 }
                var ref = p, mRef = [Float](repeating: 0, count: count)
                for step in 0..<3 {
                    var g = rng.floats(count)
                    for i in 110_003..<count { g[i] = 0 }
                    opt.update(params: &p, grads: g, lr: lr, gradScale: gradScale)
                    for r in ranges {
                        var pr = Array(ref[r]), mr = Array(mRef[r])
                        pr.withUnsafeMutableBufferPointer { P in mr.withUnsafeMutableBufferPointer { M in
                            _ = Reference.cautiousLionStep(params: P.baseAddress!, grads: Array(g[r]), m: M.baseAddress!,
                                                           count: r.count, lr: lr, beta1: b1, beta2: b2, weightDecay: wd,
                                                           factor: factor, gradScale: gradScale)
                        } }
                        ref.replaceSubrange(r, with: pr)
                        mRef.replaceSubrange(r, with: dtype == .bf16 ? mr.map { BFloat16.toFloat(BFloat16.fromFloat($0)) } : mr)
                    }
                    assertBitEqual(p, ref, "factor \(factor) \(dtype) step \(step + 1) p")
                    assertBitEqual(opt.exportState(0), mRef, "factor \(factor) \(dtype) step \(step + 1) m")
                }
            }
        }
    }
}

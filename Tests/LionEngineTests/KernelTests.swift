import XCTest
import LionEngine

/// The raw chunk kernels against `Reference`, element by element.
/// Lion (fp32 and bf16 state) and AdamW use the reference's operation order, so both are
/// required to be bitwise equal (AdamW included: no reciprocal or FMA shortcuts).
final class KernelTests: XCTestCase {
    let lengths = [1, 7, 8, 15, 16, 17, 1000]

    func lionConstants(_ lr: Float = 3e-4, wd: Float = 0.1, scale: Float = 0.5) -> LionStepConstants {
        LionStepConstants(lr: lr, beta1: 0.9, beta2: 0.99, weightDecay: wd, gradScale: scale)
    }

    func testLionFP32MatchesReferenceBitwise() {
        for n in lengths + [1_000_003] {
            var rng = TestRandom(seed: UInt64(n))
            var p = rng.floats(n), m = rng.floats(n, scale: 0.01)
            var pr = p, mr = m
            let steps = n > 100_000 ? 2 : 4
            for step in 0..<steps {
                let g = rng.floats(n)
                let k = lionConstants(wd: step == 0 ? 0 : 0.1)
                p.withUnsafeMutableBufferPointer { pp in m.withUnsafeMutableBufferPointer { mm in
                    LionKernel.updateFP32(params: pp.baseAddress!, grads: g, m: mm.baseAddress!, count: n, k)
                } }
                Reference.lionStep(params: &pr, grads: g, m: &mr, lr: k.lr, beta1: 0.9, beta2: 0.99,
                                   weightDecay: step == 0 ? 0 : 0.1, gradScale: 0.5)
            }
            assertBitEqual(p, pr, "lion fp32 params n=\(n)")
            assertBitEqual(m, mr, "lion fp32 m n=\(n)")
        }
    }

    func testLionBF16MatchesReferenceBitwise() {
        for n in lengths + [1_000_003] {
            var rng = TestRandom(seed: UInt64(n) + 99)
            var p = rng.floats(n)
            var m = rng.floats(n, scale: 0.01).map(BFloat16.fromFloat)
            var pr = p, mr = m
            let steps = n > 100_000 ? 2 : 4
            for _ in 0..<steps {
                let g = rng.floats(n)
                let k = lionConstants()
                p.withUnsafeMutableBufferPointer { pp in m.withUnsafeMutableBufferPointer { mm in
                    LionKernel.updateBF16(params: pp.baseAddress!, grads: g, m: mm.baseAddress!, count: n, k)
                } }
                pr.withUnsafeMutableBufferPointer { pp in mr.withUnsafeMutableBufferPointer { mm in
                    Reference.lionStep(params: pp.baseAddress!, grads: g, m: mm.baseAddress!, count: n,
                                       lr: k.lr, beta1: 0.9, beta2: 0.99, weightDecay: 0.1, gradScale: 0.5)
                } }
            }
            assertBitEqual(p, pr, "lion bf16 params n=\(n)")
            assertEqual(m, mr, "lion bf16 m n=\(n)")
        }
    }

    func testAdamWFP32MatchesReferenceBitwise() {
        for n in lengths {
            var rng = TestRandom(seed: UInt64(n) + 7)
            var p = rng.floats(n), m = [Float](repeating: 0, count: n), v = m
            var pr = p, mr = m, vr = v
            for t in 1...4 {
                let g = rng.floats(n)
                let k = AdamWStepConstants(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01,
                                           step: t, gradScale: 2)
                p.withUnsafeMutableBufferPointer { pp in m.withUnsafeMutableBufferPointer { mm in
                    v.withUnsafeMutableBufferPointer { vv in
                        AdamWKernel.updateFP32(params: pp.baseAddress!, grads: g, m: mm.baseAddress!,
                                               v: vv.baseAddress!, count: n, k)
                    } } }
                Reference.adamwStep(params: &pr, grads: g, m: &mr, v: &vr, lr: 1e-3, beta1: 0.9, beta2: 0.999,
                                    eps: 1e-8, weightDecay: 0.01, step: t, gradScale: 2)
            }
            assertBitEqual(p, pr, "adamw fp32 params n=\(n)")
            assertBitEqual(m, mr, "adamw fp32 m n=\(n)")
            assertBitEqual(v, vr, "adamw fp32 v n=\(n)")
        }
    }

    func testAdamWBF16MatchesReferenceBitwise() {
        for n in lengths {
            var rng = TestRandom(seed: UInt64(n) + 11)
            var p = rng.floats(n)
            var m = [UInt16](repeating: 0, count: n), v = m
            var pr = p, mr = m, vr = v
            for t in 1...3 {
                let g = rng.floats(n)
                let k = AdamWStepConstants(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01,
                                           step: t, gradScale: 1)
                p.withUnsafeMutableBufferPointer { pp in m.withUnsafeMutableBufferPointer { mm in
                    v.withUnsafeMutableBufferPointer { vv in
                        AdamWKernel.updateBF16(params: pp.baseAddress!, grads: g, m: mm.baseAddress!,
                                               v: vv.baseAddress!, count: n, k)
                    } } }
                pr.withUnsafeMutableBufferPointer { pp in mr.withUnsafeMutableBufferPointer { mm in
                    vr.withUnsafeMutableBufferPointer { vv in
                        Reference.adamwStep(params: pp.baseAddress!, grads: g, m: mm.baseAddress!, v: vv.baseAddress!,
                                            count: n, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8,
                                            weightDecay: 0.01, step: t)
                    } } }
            }
            assertBitEqual(p, pr, "adamw bf16 params n=\(n)")
            assertEqual(m, mr, "adamw bf16 m n=\(n)")
            assertEqual(v, vr, "adamw bf16 v n=\(n)")
        }
    }

    /// sign(0) = sign(-0) = 0: with zero gradient and zero momentum only weight decay moves p,
    /// in the SIMD body and in the tail (n = 17).
    func testLionZeroGradientZeroMomentumOnlyDecays() {
        let n = 17
        let lr: Float = 0.01, wd: Float = 0.5
        var p = (0..<n).map { Float($0) - 8 }
        let expected = p.map { $0 * (1 - lr * wd) }
        var m = [Float](repeating: 0, count: n)
        m[3] = -0.0
        var g = [Float](repeating: 0, count: n)
        g[5] = -0.0
        let k = LionStepConstants(lr: lr, beta1: 0.9, beta2: 0.99, weightDecay: wd, gradScale: 1)
        p.withUnsafeMutableBufferPointer { pp in m.withUnsafeMutableBufferPointer { mm in
            LionKernel.updateFP32(params: pp.baseAddress!, grads: &g, m: mm.baseAddress!, count: n, k)
        } }
        assertBitEqual(p, expected, "zero gradient: p*(1-lr*wd) only")
        XCTAssertTrue(m.allSatisfy { $0 == 0 })
        XCTAssertEqual(Reference.sign(0), 0)
        XCTAssertEqual(Reference.sign(-0.0), 0)
        XCTAssertEqual(LionKernel.sign(-0.0), 0)
    }

    /// The Lion step is lr*sign(c) whatever the gradient's magnitude: 1e-30 and 1e30 move p by
    /// exactly lr (no decay), and m stays finite for 1e30 * (1-b2).
    func testLionTinyAndHugeMagnitudes() {
        for mag: Float in [1e-30, -1e-30, 1e30, -1e30] {
            let n = 19
            var p = [Float](repeating: 1, count: n), m = [Float](repeating: 0, count: n)
            let g = [Float](repeating: mag, count: n)
            var pr = p, mr = m
            let k = LionStepConstants(lr: 0.125, beta1: 0.9, beta2: 0.99, weightDecay: 0, gradScale: 1)
            p.withUnsafeMutableBufferPointer { pp in m.withUnsafeMutableBufferPointer { mm in
                LionKernel.updateFP32(params: pp.baseAddress!, grads: g, m: mm.baseAddress!, count: n, k)
            } }
            Reference.lionStep(params: &pr, grads: g, m: &mr, lr: 0.125, beta1: 0.9, beta2: 0.99, weightDecay: 0)
            assertBitEqual(p, pr, "magnitude \(mag)")
            assertBitEqual(m, mr, "m magnitude \(mag)")
            XCTAssertEqual(p[0], mag > 0 ? 0.875 : 1.125)
            XCTAssertTrue(m.allSatisfy { $0.isFinite && $0 != 0 })
        }
    }

    /// Weight decay multiplies p before the sign step: p = p*(1-lr*wd) - lr*sign(c).
    func testLionWeightDecayOrder() {
        var p: [Float] = [2], m: [Float] = [0]
        Reference.lionStep(params: &p, grads: [1], m: &m, lr: 0.5, beta1: 0.9, beta2: 0.99, weightDecay: 0.2)
        XCTAssertEqual(p[0], 2 * (1 - 0.5 * 0.2) - 0.5)   // 1.3, not (2 - 0.5)*(0.9) = 1.35
        XCTAssertEqual(m[0], (1 - Float(0.99)) * 1)
    }

    func testAdamWTinyAndHugeMagnitudes() {
        for mag: Float in [1e-30, 1e30] {
            let n = 9
            var p = [Float](repeating: 1, count: n), m = [Float](repeating: 0, count: n), v = m
            let g = [Float](repeating: mag, count: n)
            var pr = p, mr = m, vr = v
            let k = AdamWStepConstants(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, gradScale: 1)
            p.withUnsafeMutableBufferPointer { pp in m.withUnsafeMutableBufferPointer { mm in
                v.withUnsafeMutableBufferPointer { vv in
                    AdamWKernel.updateFP32(params: pp.baseAddress!, grads: g, m: mm.baseAddress!, v: vv.baseAddress!, count: n, k)
                } } }
            Reference.adamwStep(params: &pr, grads: g, m: &mr, v: &vr, lr: 1e-3, beta1: 0.9, beta2: 0.999,
                                eps: 1e-8, weightDecay: 0, step: 1)
            assertBitEqual(p, pr, "adamw magnitude \(mag)")
            assertBitEqual(v, vr, "adamw v magnitude \(mag)")
        }
    }
}

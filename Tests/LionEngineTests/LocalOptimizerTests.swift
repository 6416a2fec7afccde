import Basics
import XCTest
import LionEngine

/// LocalOptimizer (chunked, threaded) against `Reference`, element by element, bitwise.
final class LocalOptimizerTests: XCTestCase {
    func run(kind: OptimizerKind, dtype: StateDType, n: Int, threads: Int, steps: Int, file: StaticString = #filePath, line: UInt = #line) {
        var config = OptimizerConfig.defaults(for: kind)
        config.stateDType = dtype
        config.weightDecay = 0.1
        let pool = ThreadPool(threads: threads)
        let opt = LocalOptimizer(config: config, count: n, pool: pool)
        XCTAssertEqual(opt.stateBytes, n * dtype.bytesPerElement * config.stateBuffers)
        var rng = TestRandom(seed: UInt64(n * 31 + threads))
        var p = rng.floats(n)
        var pr = p
        var m32 = [Float](repeating: 0, count: n), v32 = m32
        var m16 = [UInt16](repeating: 0, count: n), v16 = m16
        for s in 0..<steps {
            let g = rng.floats(n)
            let lr = config.lr * Float(s + 1)
            p.withUnsafeMutableBufferPointer { opt.update(params: $0.baseAddress!, grads: g, lr: lr, gradScale: 0.25) }
            pr.withUnsafeMutableBufferPointer { pp in
                let p0 = pp.baseAddress!
                switch (kind, dtype) {
                case (.lion, .fp32):
                    Reference.lionStep(params: p0, grads: g, m: &m32, count: n, lr: lr, beta1: config.beta1,
                                       beta2: config.beta2, weightDecay: 0.1, gradScale: 0.25)
                case (.lion, .bf16):
                    Reference.lionStep(params: p0, grads: g, m: &m16, count: n, lr: lr, beta1: config.beta1,
                                       beta2: config.beta2, weightDecay: 0.1, gradScale: 0.25)
                case (.adamw, .fp32):
                    Reference.adamwStep(params: p0, grads: g, m: &m32, v: &v32, count: n, lr: lr, beta1: config.beta1,
                                        beta2: config.beta2, eps: config.eps, weightDecay: 0.1, step: s + 1, gradScale: 0.25)
                case (.adamw, .bf16):
                    Reference.adamwStep(params: p0, grads: g, m: &m16, v: &v16, count: n, lr: lr, beta1: config.beta1,
                                        beta2: config.beta2, eps: config.eps, weightDecay: 0.1, step: s + 1, gradScale: 0.25)
                }
            }
        }
        XCTAssertEqual(opt.step, steps)
        let what = "\(kind) \(dtype) n=\(n) threads=\(threads)"
        assertBitEqual(p, pr, "\(what) params", file: file, line: line)
        var exported = opt.exportState(0)
        assertBitEqual(exported, dtype == .fp32 ? m32 : m16.map(BFloat16.toFloat), "\(what) m", file: file, line: line)
        if kind == .adamw {
            exported = opt.exportState(1)
            assertBitEqual(exported, dtype == .fp32 ? v32 : v16.map(BFloat16.toFloat), "\(what) v", file: file, line: line)
        }
    }

    func testAllKindsAndDTypesSmallLengths() {
        for kind in OptimizerKind.allCases {
            for dtype in StateDType.allCases {
                for threads in [1, 2] {
                    for n in [1, 15, 17, 100_003] {
                        run(kind: kind, dtype: dtype, n: n, threads: threads, steps: 3)
                    }
                }
            }
        }
    }

    /// The big tail case: 1,000,003 elements = 30 full chunks + a partial one ending in a tail.
    func testLionLargeWithTail() {
        run(kind: .lion, dtype: .fp32, n: 1_000_003, threads: 2, steps: 2)
        run(kind: .lion, dtype: .bf16, n: 1_000_003, threads: 1, steps: 1)
    }

    func testZeroGradientOnlyDecays() {
        var config = OptimizerConfig.defaults(for: .lion)
        config.weightDecay = 1
        config.lr = 0.01
        let n = 40_000   // two chunks
        let opt = LocalOptimizer(config: config, count: n, pool: ThreadPool(threads: 2))
        var p = (0..<n).map { Float($0 % 100) - 50 }
        let expected = p.map { $0 * (1 - config.lr * config.weightDecay) }
        let g = [Float](repeating: 0, count: n)
        p.withUnsafeMutableBufferPointer { opt.update(params: $0.baseAddress!, grads: g, lr: config.lr, gradScale: 1) }
        assertBitEqual(p, expected, "zero gradient, zero momentum")
    }

    func testImportExportRoundTripAndResume() {
        for dtype in StateDType.allCases {
            var config = OptimizerConfig.defaults(for: .adamw)
            config.stateDType = dtype
            let n = 33
            let opt = LocalOptimizer(config: config, count: n, pool: ThreadPool(threads: 1))
            let m: [Float] = (0..<n).map { Float($0) * 0.5 }        // exact in bf16
            let v: [Float] = (0..<n).map { Float($0) * 0.25 }
            opt.importState(0, from: m)
            opt.importState(1, from: v)
            var out = opt.exportState(0)
            assertBitEqual(out, m, "m round trip \(dtype)")
            out = opt.exportState(1)
            assertBitEqual(out, v, "v round trip \(dtype)")
            opt.step = 10
            var p = [Float](repeating: 1, count: n), pr = p
            let g = [Float](repeating: 0.5, count: n)
            p.withUnsafeMutableBufferPointer { opt.update(params: $0.baseAddress!, grads: g, lr: 1e-3, gradScale: 1) }
            var mr = m, vr = v
            Reference.adamwStep(params: &pr, grads: g, m: &mr, v: &vr, lr: 1e-3, beta1: 0.9, beta2: 0.999,
                                eps: 1e-8, weightDecay: 0, step: 11)
            if dtype == .fp32 { assertBitEqual(p, pr, "resumed at step 11") }
            XCTAssertEqual(opt.step, 11)
        }
    }

    func testStateBytes() {
        let pool = ThreadPool(threads: 1)
        for kind in OptimizerKind.allCases {
            for dtype in StateDType.allCases {
                var c = OptimizerConfig.defaults(for: kind)
                c.stateDType = dtype
                let o = LocalOptimizer(config: c, count: 1000, pool: pool)
                XCTAssertEqual(o.stateBytes, 1000 * (dtype == .fp32 ? 4 : 2) * (kind == .lion ? 1 : 2))
            }
        }
    }
}

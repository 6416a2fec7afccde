import XCTest
import LionEngine

/// Every kernel path this CPU supports (`portable` Swift SIMD and, on AVX2 / AVX-512F+BW
/// machines, the C intrinsics in CKernels) against `Reference`, element by element and bit for bit.
final class KernelPathTests: XCTestCase {
    let lengths = [1, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 1_000_003]

    /// About 1e-40: a subnormal fp32.
    let subnormal = Float(bitPattern: 0x0001_16C2)

    var paths: [KernelPath] { KernelPath.allCases.filter(\.isSupported) }

    /// The CPU flags /proc/cpuinfo lists, or nil where there is none.
    func cpuFlags() -> Set<String>? {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }.map {
            Set($0.split(separator: ":").last!.split(separator: " ").map(String.init))
        } ?? []
    }

    /// The dispatcher picks the widest path /proc/cpuinfo lists (AVX-512F+BW, else AVX2), so the
    /// tests below cannot silently exercise only the fallback.
    func testFastPathSelectedOnThisCPU() throws {
        guard let flags = cpuFlags() else { throw XCTSkip("no /proc/cpuinfo") }
        let hasAVX512 = flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx2")
        XCTAssertEqual(KernelPath.avx2.isSupported, flags.contains("avx2"))
        XCTAssertEqual(KernelPath.avx512.isSupported, hasAVX512)
        guard flags.contains("avx2") else { throw XCTSkip("CPU without AVX2: only the portable path exists") }
        XCTAssertEqual(paths, hasAVX512 ? [.portable, .avx2, .avx512] : [.portable, .avx2])
        if ProcessInfo.processInfo.environment["LION_DIST_KERNELS"] == nil {
            XCTAssertEqual(KernelPath.best, hasAVX512 ? .avx512 : .avx2)
        }
    }

    /// Tails of every length 0...47 on every path (the AVX-512 kernels mask the last n % 16
    /// lanes; nothing past `count` may be read into the result or written).
    func testEveryTailLengthAllPaths() {
        let pad = 5
        for path in paths {
            for n in 0...47 {
                var rng = TestRandom(seed: UInt64(n) &+ 300)
                let p = rng.floats(n + pad), m = rng.floats(n + pad, scale: 0.01), g = rng.floats(n + pad)
                let k = lionK()
                var pp = p, mm = m, pr = p, mr = m
                var ph = p, mh = m.map(BFloat16.fromFloat), phr = p, mhr = mh
                LionKernel.updateFP32(params: &pp, grads: g, m: &mm, count: n, k, path: path)
                LionKernel.updateBF16(params: &ph, grads: g, m: &mh, count: n, k, path: path)
                pr.withUnsafeMutableBufferPointer { P in mr.withUnsafeMutableBufferPointer { M in
                    Reference.lionStep(params: P.baseAddress!, grads: g, m: M.baseAddress!, count: n, lr: k.lr,
                                       beta1: 0.9, beta2: 0.99, weightDecay: 0.1, gradScale: 0.5)
                } }
                phr.withUnsafeMutableBufferPointer { P in mhr.withUnsafeMutableBufferPointer { M in
                    Reference.lionStep(params: P.baseAddress!, grads: g, m: M.baseAddress!, count: n, lr: k.lr,
                                       beta1: 0.9, beta2: 0.99, weightDecay: 0.1, gradScale: 0.5)
                } }
                assertBitEqual(pp, pr, "\(path) n=\(n) lion fp32 p")
                assertBitEqual(mm, mr, "\(path) n=\(n) lion fp32 m")
                assertBitEqual(ph, phr, "\(path) n=\(n) lion bf16 p")
                assertEqual(mh, mhr, "\(path) n=\(n) lion bf16 m")
                // Past `count` nothing changed.
                assertBitEqual(Array(pp[n...]), Array(p[n...]), "\(path) n=\(n) p beyond count")
                assertEqual(Array(mh[n...]), Array(m[n...].map(BFloat16.fromFloat)), "\(path) n=\(n) m beyond count")
            }
        }
    }

    // MARK: Lion

    func lionK(lr: Float = 3e-4, wd: Float = 0.1, b2: Float = 0.99, scale: Float = 0.5) -> LionStepConstants {
        LionStepConstants(lr: lr, beta1: 0.9, beta2: b2, weightDecay: wd, gradScale: scale)
    }

    /// Runs `steps` Lion fp32 steps on `path` and on `Reference`, then compares p and m.
    func checkLionFP32(_ path: KernelPath, p p0: [Float], m m0: [Float], grads: [[Float]],
                       _ k: LionStepConstants, wd: Float, _ what: String) {
        var p = p0, m = m0, pr = p0, mr = m0
        for g in grads {
            LionKernel.updateFP32(params: &p, grads: g, m: &m, count: p.count, k, path: path)
            Reference.lionStep(params: &pr, grads: g, m: &mr, lr: k.lr, beta1: k.beta1, beta2: k.beta2,
                               weightDecay: wd, gradScale: k.gradScale)
        }
        assertBitEqual(p, pr, "\(path) lion fp32 p \(what)")
        assertBitEqual(m, mr, "\(path) lion fp32 m \(what)")
    }

    func checkLionBF16(_ path: KernelPath, p p0: [Float], m m0: [UInt16], grads: [[Float]],
                       _ k: LionStepConstants, wd: Float, _ what: String) {
        var p = p0, m = m0, pr = p0, mr = m0
        let n = p.count
        for g in grads {
            LionKernel.updateBF16(params: &p, grads: g, m: &m, count: n, k, path: path)
            pr.withUnsafeMutableBufferPointer { pp in mr.withUnsafeMutableBufferPointer { mm in
                Reference.lionStep(params: pp.baseAddress!, grads: g, m: mm.baseAddress!, count: n, lr: k.lr,
                                   beta1: k.beta1, beta2: k.beta2, weightDecay: wd, gradScale: k.gradScale)
            } }
        }
        assertBitEqual(p, pr, "\(path) lion bf16 p \(what)")
        assertEqual(m, mr, "\(path) lion bf16 m \(what)")
    }

    func testLionAllPathsMatchReference() {
        for path in paths {
            for n in lengths {
                var rng = TestRandom(seed: UInt64(n) &+ 1)
                let steps = n > 100_000 ? 2 : 3
                let p = rng.floats(n), m = rng.floats(n, scale: 0.01)
                let grads = (0..<steps).map { _ in rng.floats(n) }
                for wd: Float in n > 100_000 ? [0.1] : [0, 0.1] {
                    checkLionFP32(path, p: p, m: m, grads: grads, lionK(wd: wd), wd: wd, "n=\(n) wd=\(wd)")
                    checkLionBF16(path, p: p, m: m.map(BFloat16.fromFloat), grads: grads, lionK(wd: wd), wd: wd,
                                  "n=\(n) wd=\(wd)")
                }
            }
        }
    }

    /// sign(0) = sign(-0) = 0: zero gradient and zero momentum (+0 and -0) leave only decay.
    func testLionZeroGradientsAllPaths() {
        let n = 37
        let p = (0..<n).map { Float($0) - 18 }
        var m = [Float](repeating: 0, count: n), g = m
        for i in stride(from: 0, to: n, by: 3) { m[i] = -0.0; g[i + 1 < n ? i + 1 : i] = -0.0 }
        let k = lionK(lr: 0.01, wd: 0.5, scale: 1)
        let expected = p.map { $0 * (1 - 0.01 * 0.5) }
        for path in paths {
            checkLionFP32(path, p: p, m: m, grads: [g], k, wd: 0.5, "zero grads")
            checkLionBF16(path, p: p, m: m.map(BFloat16.fromFloat), grads: [g], k, wd: 0.5, "zero grads")
            var pp = p, mm = m
            LionKernel.updateFP32(params: &pp, grads: g, m: &mm, count: n, k, path: path)
            assertBitEqual(pp, expected, "\(path): zero gradient moves p by decay only")
        }
    }

    /// Tiny, huge, subnormal and overflowing magnitudes; bf16 state near fp32 max rounds to Inf.
    func testLionExtremeMagnitudesAllPaths() {
        let n = 41
        for mag: Float in [1e-30, -1e-30, subnormal, -subnormal, 1e30, -1e30, 3e38, -3e38, .greatestFiniteMagnitude] {
            let g = (0..<n).map { i in i % 5 == 0 ? -mag : mag }
            let p = [Float](repeating: 1, count: n)
            let m = (0..<n).map { i in i % 4 == 0 ? mag : Float(i) * 0.01 }
            for path in paths {
                checkLionFP32(path, p: p, m: m, grads: [g, g], lionK(lr: 0.125, wd: 0, scale: 1), wd: 0, "mag \(mag)")
                checkLionBF16(path, p: p, m: m.map(BFloat16.fromFloat), grads: [g, g],
                              lionK(lr: 0.125, wd: 0.1, scale: 1), wd: 0.1, "mag \(mag)")
            }
        }
    }

    /// bf16 rounding inside the kernels: with beta2 = 0 the new m is round(grad) exactly, so
    /// every rounding case (ties, subnormals, overflow to Inf, NaN quieting with sign kept) is
    /// checked against `BFloat16.fromFloat` and the reference. Random bit patterns follow.
    func testLionBF16RoundingAndNaNAllPaths() {
        var bits: [UInt32] = [0x3F80_0000, 0x3F80_8000, 0x3F81_8000, 0x3F80_8001, 0x3F80_7FFF, 0xBF81_8000,
                              0x0000_8000, 0x0001_8000, 0x7F7F_7FFF, 0x7F7F_8000, 0x7F7F_FFFF, 0xFF7F_FFFF,
                              0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0x7F80_0001, 0xFFFF_FFFF, 0x7FFF_8000,
                              0xFFC0_0000, 0x0000_0001, 0x8000_0000]
        var rng = TestRandom(seed: 42)
        for _ in 0..<4000 { bits.append(UInt32(truncatingIfNeeded: rng.next())) }
        let g = bits.map { Float(bitPattern: $0) }
        let n = g.count
        let p = (0..<n).map { Float($0 % 13) - 6 }
        let zeroM = [UInt16](repeating: 0, count: n)
        // beta2 = 0: m_new = 0*m + 1*g = round(g).
        let k0 = LionStepConstants(lr: 0.5, beta1: 0.9, beta2: 0, weightDecay: 0.1, gradScale: 1)
        for path in paths {
            var pp = p, m = zeroM
            LionKernel.updateBF16(params: &pp, grads: g, m: &m, count: n, k0, path: path)
            for i in 0..<n where !g[i].isNaN {
                XCTAssertEqual(m[i], BFloat16.fromFloat(g[i] == 0 ? 0 : g[i]),
                               "\(path) round 0x\(String(bits[i], radix: 16))")
            }
            for i in 0..<n where g[i].isNaN {
                XCTAssertTrue(BFloat16.toFloat(m[i]).isNaN, "\(path) NaN stays NaN at \(i)")
                XCTAssertEqual(m[i] & 0x8000, UInt16(bits[i] >> 16) & 0x8000, "\(path) NaN keeps its sign")
            }
            checkLionBF16(path, p: p, m: zeroM, grads: [g], k0, wd: 0.1, "rounding sweep")
            // Random finite bf16 state against NaN/Inf/any gradient, beta2 = 0.99.
            let m1 = (0..<n).map { _ -> UInt16 in
                let h = UInt16(truncatingIfNeeded: rng.next())
                return BFloat16.toFloat(h).isFinite ? h : 0x3F80
            }
            checkLionBF16(path, p: p, m: m1, grads: [g], lionK(wd: 0.1, scale: 1), wd: 0.1, "random patterns")
        }
    }

    /// NaN already in the bf16 state (with a finite gradient) propagates, quieted, on every path.
    func testLionBF16NaNStateAllPaths() {
        let n = 35
        let nanBits: [UInt16] = [0x7FC0, 0xFFC0, 0x7F81, 0xFF81, 0x7FFF]
        let m = (0..<n).map { i in i % 3 == 0 ? nanBits[i % nanBits.count] : BFloat16.fromFloat(Float(i) * 0.01) }
        var rng = TestRandom(seed: 9)
        let g = rng.floats(n).map { $0 == 0 ? 0.5 : $0 }
        let p = rng.floats(n)
        for path in paths {
            checkLionBF16(path, p: p, m: m, grads: [g], lionK(wd: 0.1, scale: 1), wd: 0.1, "NaN state")
            var pp = p, mm = m
            LionKernel.updateBF16(params: &pp, grads: g, m: &mm, count: n, lionK(wd: 0.1, scale: 1), path: path)
            for i in stride(from: 0, to: n, by: 3) {
                XCTAssertTrue(BFloat16.toFloat(mm[i]).isNaN, "\(path) m[\(i)] stays NaN")
                XCTAssertEqual(mm[i] & 0x0040, 0x0040, "\(path) m[\(i)] is quiet")
                XCTAssertEqual(pp[i].bitPattern, (p[i] * (1 - 3e-4 * 0.1)).bitPattern, "\(path) NaN c: decay only")
            }
        }
    }

    /// Kernels take any alignment: run from odd offsets into a larger buffer.
    func testUnalignedChunksAllPaths() {
        let n = 100
        var rng = TestRandom(seed: 5)
        let p = rng.floats(n + 3), m = rng.floats(n + 3, scale: 0.01), g = rng.floats(n + 3)
        for path in paths {
            for off in 1...3 {
                var pp = p, mm = m, pr = p, mr = m
                var mh = m.map(BFloat16.fromFloat), mhr = mh, ph = p, phr = p
                let k = lionK()
                pp.withUnsafeMutableBufferPointer { P in mm.withUnsafeMutableBufferPointer { M in
                    g.withUnsafeBufferPointer { G in
                        LionKernel.updateFP32(params: P.baseAddress! + off, grads: G.baseAddress! + off,
                                              m: M.baseAddress! + off, count: n, k, path: path)
                    } } }
                pr.withUnsafeMutableBufferPointer { P in mr.withUnsafeMutableBufferPointer { M in
                    g.withUnsafeBufferPointer { G in
                        Reference.lionStep(params: P.baseAddress! + off, grads: G.baseAddress! + off,
                                           m: M.baseAddress! + off, count: n, lr: k.lr, beta1: 0.9, beta2: 0.99,
                                           weightDecay: 0.1, gradScale: 0.5)
                    } } }
                ph.withUnsafeMutableBufferPointer { P in mh.withUnsafeMutableBufferPointer { M in
                    g.withUnsafeBufferPointer { G in
                        LionKernel.updateBF16(params: P.baseAddress! + off, grads: G.baseAddress! + off,
                                              m: M.baseAddress! + off, count: n, k, path: path)
                    } } }
                phr.withUnsafeMutableBufferPointer { P in mhr.withUnsafeMutableBufferPointer { M in
                    g.withUnsafeBufferPointer { G in
                        Reference.lionStep(params: P.baseAddress! + off, grads: G.baseAddress! + off,
                                           m: M.baseAddress! + off, count: n, lr: k.lr, beta1: 0.9, beta2: 0.99,
                                           weightDecay: 0.1, gradScale: 0.5)
                    } } }
                assertBitEqual(pp, pr, "\(path) offset \(off) fp32 p")
                assertBitEqual(mm, mr, "\(path) offset \(off) fp32 m")
                assertBitEqual(ph, phr, "\(path) offset \(off) bf16 p")
                assertEqual(mh, mhr, "\(path) offset \(off) bf16 m")
            }
        }
    }

    // MARK: AdamW

    func checkAdamW(_ path: KernelPath, p p0: [Float], m m0: [Float], v v0: [Float], grads: [[Float]],
                    wd: Float, scale: Float, _ what: String) {
        let n = p0.count
        var p = p0, m = m0, v = v0, pr = p0, mr = m0, vr = v0
        var ph = p0, mh = m0.map(BFloat16.fromFloat), vh = v0.map(BFloat16.fromFloat)
        var phr = ph, mhr = mh, vhr = vh
        for (s, g) in grads.enumerated() {
            let t = s + 1
            let k = AdamWStepConstants(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, step: t,
                                       gradScale: scale)
            AdamWKernel.updateFP32(params: &p, grads: g, m: &m, v: &v, count: n, k, path: path)
            Reference.adamwStep(params: &pr, grads: g, m: &mr, v: &vr, lr: 1e-3, beta1: 0.9, beta2: 0.999,
                                eps: 1e-8, weightDecay: wd, step: t, gradScale: scale)
            AdamWKernel.updateBF16(params: &ph, grads: g, m: &mh, v: &vh, count: n, k, path: path)
            phr.withUnsafeMutableBufferPointer { P in mhr.withUnsafeMutableBufferPointer { M in
                vhr.withUnsafeMutableBufferPointer { V in
                    Reference.adamwStep(params: P.baseAddress!, grads: g, m: M.baseAddress!, v: V.baseAddress!,
                                        count: n, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd,
                                        step: t, gradScale: scale)
                } } }
        }
        assertBitEqual(p, pr, "\(path) adamw fp32 p \(what)")
        assertBitEqual(m, mr, "\(path) adamw fp32 m \(what)")
        assertBitEqual(v, vr, "\(path) adamw fp32 v \(what)")
        assertBitEqual(ph, phr, "\(path) adamw bf16 p \(what)")
        assertEqual(mh, mhr, "\(path) adamw bf16 m \(what)")
        assertEqual(vh, vhr, "\(path) adamw bf16 v \(what)")
    }

    func testAdamWAllPathsMatchReference() {
        for path in paths {
            for n in lengths {
                var rng = TestRandom(seed: UInt64(n) &+ 77)
                let steps = n > 100_000 ? 2 : 3
                let p = rng.floats(n), m = rng.floats(n, scale: 0.01)
                let v = rng.floats(n, scale: 0.001).map { $0.magnitude }
                let grads = (0..<steps).map { _ in rng.floats(n) }
                checkAdamW(path, p: p, m: m, v: v, grads: grads, wd: 0.01, scale: 2, "n=\(n)")
            }
        }
    }

    func testAdamWZeroAndExtremeGradientsAllPaths() {
        let n = 29
        for mag: Float in [0, -0.0, 1e-30, -subnormal, 1e30, -3e38] {
            let g = (0..<n).map { i in i % 3 == 0 ? mag : Float(i) * 0.1 }
            let p = (0..<n).map { Float($0) - 14 }
            let z = [Float](repeating: 0, count: n)
            for path in paths {
                checkAdamW(path, p: p, m: z, v: z, grads: [g, g], wd: 0.1, scale: 1, "mag \(mag)")
            }
        }
    }
}

import Basics
import XCTest
import LionEngine

/// Parameter groups: each group's weight decay, lr multiplier and betas, held to the scalar reference
/// element by element across chunk boundaries (groups cut chunks, chunks cut groups).
final class ParameterGroupTests: XCTestCase {
    func testGroupsMatchReferencePerGroup() {
        let chunk = Chunking.chunkElements
        // Boundaries inside a chunk, on a chunk edge, a one-element group, an odd tail.
        let cuts = [0, 37, chunk, chunk + 1, chunk + 1000, 2 * chunk + 5, 2 * chunk + 77]
        // nil betas: the config's; the others are the group's own (PyTorch param groups' "betas").
        let settings: [(wd: Float, scale: Float, b1: Float?, b2: Float?)] = [
            (0.1, 1, nil, nil), (0, 1, 0.5, 0.9), (1.5, 0.5, nil, 0.95), (0, 2, 0.95, 0.98), (0.3, 1, 0, 0), (0, 0.25, nil, nil)]
        let groups = (0..<settings.count).map {
            ParameterGroup(range: cuts[$0]..<cuts[$0 + 1], weightDecay: settings[$0].wd, lrScale: settings[$0].scale,
                           beta1: settings[$0].b1, beta2: settings[$0].b2)
        }
        let n = cuts.last!
        for kind in OptimizerKind.allCases {
            var config = OptimizerConfig.defaults(for: kind)
            config.weightDecay = 99   // must be ignored: the groups decide
            for threads in [1, 2] {
                let opt = LocalOptimizer(config: config, count: n, pool: ThreadPool(threads: threads), groups: groups)
                var rng = TestRandom(seed: 11)
                var p = rng.floats(n)
                var pr = p
                var m = [Float](repeating: 0, count: n), v = m
                for s in 0..<3 {
                    let g = rng.floats(n)
                    let lr: Float = 1e-2
                    p.withUnsafeMutableBufferPointer { opt.update(params: $0.baseAddress!, grads: g, lr: lr, gradScale: 1) }
                    for (gi, group) in groups.enumerated() {
                        let r = group.range, glr = lr * settings[gi].scale, wd = settings[gi].wd
                        let b1 = settings[gi].b1 ?? config.beta1, b2 = settings[gi].b2 ?? config.beta2
                        pr.withUnsafeMutableBufferPointer { pp in
                            g.withUnsafeBufferPointer { gg in
                                m.withUnsafeMutableBufferPointer { mm in
                                    v.withUnsafeMutableBufferPointer { vv in
                                        let (p0, g0, m0, v0) = (pp.baseAddress! + r.lowerBound, gg.baseAddress! + r.lowerBound,
                                                                mm.baseAddress! + r.lowerBound, vv.baseAddress! + r.lowerBound)
                                        if kind == .lion {
                                            Reference.lionStep(params: p0, grads: g0, m: m0, count: r.count, lr: glr,
                                                               beta1: b1, beta2: b2, weightDecay: wd)
                                        } else {
                                            Reference.adamwStep(params: p0, grads: g0, m: m0, v: v0, count: r.count, lr: glr,
                                                                beta1: b1, beta2: b2, eps: config.eps,
                                                                weightDecay: wd, step: s + 1)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                for i in 0..<n where p[i].bitPattern != pr[i].bitPattern {
                    XCTFail("\(kind) threads \(threads): element \(i) is \(p[i]), reference \(pr[i])")
                    break
                }
            }
        }
    }

    func testNormalizeMergesEqualNeighboursAndSliceShifts() {
        let groups = [ParameterGroup(range: 0..<10, weightDecay: 0.1), ParameterGroup(range: 10..<20, weightDecay: 0.1),
                      ParameterGroup(range: 20..<25, weightDecay: 0), ParameterGroup(range: 25..<40, weightDecay: 0.1)]
        let merged = ParameterGroup.normalized(groups, count: 40)
        XCTAssertEqual(merged.map(\.range), [0..<20, 20..<25, 25..<40])
        let shard = ParameterGroup.slice(merged, to: 16..<32)
        XCTAssertEqual(shard.map(\.range), [0..<4, 4..<9, 9..<16])
        XCTAssertEqual(shard.map(\.weightDecay), [0.1, 0, 0.1])
        // Groups that differ only in betas stay apart; slicing keeps the betas.
        let betas = ParameterGroup.normalized([ParameterGroup(range: 0..<8, weightDecay: 0, beta1: 0.5),
                                               ParameterGroup(range: 8..<16, weightDecay: 0)], count: 16)
        XCTAssertEqual(betas.map(\.range), [0..<8, 8..<16])
        XCTAssertEqual(ParameterGroup.slice(betas, to: 4..<12).map(\.beta1), [0.5, nil])
    }
}

import Foundation
import XCTest

/// Cautious Lion sharded over W = 1, 2, 3, 4 real ranks (factors 0 and 1 at W = 1 and 3) (Examples/CautiousLion: the library's
/// `DistributedOptimizer` with `.lion(cautiousFactor:)`, two tensors of 1009 and 2555 elements,
/// which neither 2, 3 nor 4 divides) against a replay of lion-pytorch 0.2.5's
/// `cautious_lion.Lion.step`, written here from its code, on the gradients the run dumped.
///
/// The bound is 0 ulps (bit for bit), and why: the engine's per-tensor mean comes from exact
/// integer counts (summed over the ranks in a Double allreduce, exact below 2^53), lion-pytorch's
/// from a Float sum of the scale tensor. For factors 0, 0.5 and 1 every partial sum of that
/// tensor is a multiple of 0.5 below 2^23, hence exact in Float in any order, so both means are
/// the same Float (sum / count, one rounding), so are 1/mean and factor/mean, and every other
/// operation is elementwise and rounded the same way. (For another factor the Float sum rounds:
/// relative error up to ~n * 2^-24 in the mean, carried into lr*scale; `CautiousKernelTests`
/// bounds that case.) The gradients sum exactly over W ranks (a 1/1024 grid), so every W sees
/// the same mean gradient.
final class CautiousLionTests: XCTestCase {
    let sizes = [1009, 2555]
    let steps = 40

    /// lion-pytorch's `update_fn` for one tensor, one element at a time; Python's scalars
    /// (1 - lr*wd, 1 - beta, -lr) are Double and become Float against the fp32 tensors.
    static func cautiousStep(_ p: inout [Float], _ m: inout [Float], _ g: [Float], lr: Double, wd: Double,
                             betas: (Double, Double), factor: Float) {
        let n = p.count
        var update = [Float](repeating: 0, count: n), scale = [Float](repeating: 0, count: n)
        for i in 0..<n {
            p[i] *= Float(1 - lr * wd)                                          // p.data.mul_(1 - lr*wd)
            let c = m[i] * Float(betas.0) + g[i] * Float(1 - betas.0)           // exp_avg*beta1 + grad*(1-beta1)
            update[i] = c > 0 ? 1 : (c < 0 ? -1 : 0)                            // .sign_()
            scale[i] = update[i] * g[i] > 0 ? 1 : factor                        // where((update*grad) > 0, 1, factor)
        }
        if factor < 1 {                                                         // if cautious_factor < 1
            var sum: Float = 0
            for s in scale { sum += s }
            let mean = max(sum / Float(n), 1e-5)                                // scale.mean().clamp(min=1e-5)
            for i in 0..<n { update[i] *= scale[i] / mean }                     // scale /= mean; update.mul_(scale)
        }
        for i in 0..<n {
            p[i] += update[i] * Float(-lr)                                      // p.add_(update, alpha=-lr)
            m[i] = m[i] * Float(betas.1) + g[i] * Float(1 - betas.1)            // exp_avg.mul_(b2).add_(grad, alpha=1-b2)
        }
    }

    /// Plain Lion (lion-pytorch's `lion_pytorch.Lion`), the same scalars.
    static func plainStep(_ p: inout [Float], _ m: inout [Float], _ g: [Float], lr: Double, wd: Double, betas: (Double, Double)) {
        for i in 0..<p.count {
            p[i] *= Float(1 - lr * wd)
            let c = m[i] * Float(betas.0) + g[i] * Float(1 - betas.0)
            p[i] += (c > 0 ? 1 : (c < 0 ? -1 : 0)) * Float(-lr)
            m[i] = m[i] * Float(betas.1) + g[i] * Float(1 - betas.1)
        }
    }

    /// Replays the dumped run: tensor a decays (0.1), b does not; lr 0.01, betas (0.9, 0.99) as Floats.
    func replay(_ dir: URL, factor: Float?) throws -> (params: [Float], zeroSigns: Int) {
        let p0 = try Launcher.readFloats(dir.appendingPathComponent("p-0.f32"))
        XCTAssertEqual(p0.count, sizes.reduce(0, +))
        var tensors = [Array(p0[0..<sizes[0]]), Array(p0[sizes[0]...])]
        var moments = sizes.map { [Float](repeating: 0, count: $0) }
        let betas = (Double(Float(0.9)), Double(Float(0.99))), lr = Double(Float(0.01)), decays = [Double(Float(0.1)), 0]
        var zeroSigns = 0
        for s in 0..<steps {
            let g = try Launcher.readFloats(dir.appendingPathComponent("g-\(s).f32"))
            let parts = [Array(g[0..<sizes[0]]), Array(g[sizes[0]...])]
            for t in 0..<2 {
                for i in 0..<sizes[t] where moments[t][i] * Float(betas.0) + parts[t][i] * Float(1 - betas.0) == 0 { zeroSigns += 1 }
                if let factor {
                    Self.cautiousStep(&tensors[t], &moments[t], parts[t], lr: lr, wd: decays[t], betas: betas, factor: factor)
                } else {
                    Self.plainStep(&tensors[t], &moments[t], parts[t], lr: lr, wd: decays[t], betas: betas)
                }
            }
        }
        return (tensors[0] + tensors[1], zeroSigns)
    }

    func testShardedCautiousLionReplaysLionPyTorchAtOneToFourRanks() throws {
        let exe = try ExampleBuild.build("CautiousLion")
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var plainOnce: [Float]? = nil
        // Factor 0.5 at every W; 0 and 1 (the same code with another constant) at W = 1 and 3.
        for factor: Float in [0, 0.5, 1] {
            var atW1: [Float]? = nil
            for ranks in factor == 0.5 ? [1, 2, 3, 4] : [1, 3] {
                let run = dir.appendingPathComponent("f\(factor)-w\(ranks)")
                try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
                let out = run.appendingPathComponent("params.f32")
                let r = try Launcher.run(ranks: ranks, ["--cautious-factor", "\(factor)", "--steps", "\(steps)",
                                                        "--out", out.path, "--dump", run.path], executable: exe)
                XCTAssertEqual(r.status, 0, "factor \(factor) W=\(ranks): \(r.stderr)")
                XCTAssertTrue(r.stdout.contains("CautiousLion: \(ranks) rank(s), tensors 1009 and 2555"), r.stdout)
                let params = try Launcher.readFloats(out)
                let (expected, zeroSigns) = try replay(run, factor: factor)
                XCTAssertGreaterThan(zeroSigns, 0, "the run should meet sign(0) (c == 0)")
                XCTAssertEqual(params.count, expected.count)
                let worst = zip(params, expected).map { ulps($0, $1) }.max() ?? 0
                XCTAssertEqual(worst, 0, "factor \(factor) W=\(ranks): \(worst) ulps from the lion-pytorch replay")
                if factor < 1 {
                    let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("CautiousLion:") } ?? ""
                    XCTAssertFalse(line.hasSuffix(" 0.0% masked per step"), "cautious runs should mask elements: \(line)")
                }
                if let atW1 { XCTAssertEqual(params.map(\.bitPattern), atW1.map(\.bitPattern), "factor \(factor) W=\(ranks) vs W=1") }
                atW1 = atW1 ?? params
                if factor == 1 {
                    // Factor 1 is plain Lion, bit for bit (the scale is 1/1 = 1).
                    let plain = try plainOnce ?? replay(run, factor: nil).params
                    plainOnce = plain
                    XCTAssertEqual(params.map(\.bitPattern), plain.map(\.bitPattern), "factor 1 W=\(ranks) vs plain Lion")
                }
            }
        }
        // The cautious runs went elsewhere than plain Lion.
        let f0 = try Launcher.readFloats(dir.appendingPathComponent("f0.0-w1/params.f32"))
        XCTAssertNotEqual(f0.map(\.bitPattern), plainOnce?.map(\.bitPattern))
    }

    /// Distance in units in the last place (same-sign floats; opposite signs count through 0).
    func ulps(_ a: Float, _ b: Float) -> Int {
        func key(_ x: Float) -> Int { x.sign == .minus ? -Int(x.magnitude.bitPattern) : Int(x.bitPattern) }
        return abs(key(a) - key(b))
    }
}

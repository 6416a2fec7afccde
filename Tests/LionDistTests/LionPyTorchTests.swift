import LionDist
import XCTest

/// `OptimizerOptions.lion(lr, betas, weightDecay, decoupledWeightDecay)` held to lion-pytorch's
/// `Lion.step` on a short trajectory: three param groups (a decayed one, an undecayed one, one
/// with its own lr, decay and betas), a warm-up + cosine schedule, with and without decoupled
/// decay. One rank (a world of size 1, MPI singleton).
final class LionPyTorchTests: XCTestCase {
    /// lion-pytorch 0.2's `update_fn` and `step`, one element at a time. As in PyTorch, the
    /// Python scalars (`1 - lr*wd`, `1 - beta`, `wd / init_lr`) are Double and become Float
    /// when they meet the fp32 tensors; the tensor math is Float.
    struct LionPyTorch {
        struct Group { var range: Range<Int>; var lr: Double; var weightDecay: Double; var betas: (Double, Double) }
        var groups: [Group]
        let initLR: Double
        let decoupled: Bool
        var expAvg: [Float]

        mutating func step(_ p: inout [Float], grads: [Float], lrFactor: Double) {
            for group in groups {
                let lr = group.lr * lrFactor            // a LambdaLR scales each group's lr
                var wd = group.weightDecay
                if decoupled { wd /= initLR }          // maybe decoupled weight decay
                let (beta1, beta2) = group.betas
                for i in group.range {
                    let g = grads[i]
                    p[i] *= Float(1 - lr * wd)                                       // p.data.mul_(1 - lr*wd)
                    let c = expAvg[i] * Float(beta1) + g * Float(1 - beta1)          // exp_avg*beta1 + grad*(1-beta1)
                    let update: Float = c > 0 ? 1 : (c < 0 ? -1 : 0)                 // .sign_()
                    p[i] += update * Float(-lr)                                      // p.add_(update, alpha=-lr)
                    expAvg[i] = expAvg[i] * Float(beta2) + g * Float(1 - beta2)      // exp_avg.mul_(b2).add_(g, alpha=1-b2)
                }
            }
        }
    }

    func trajectory(decoupled: Bool) throws {
        let world = try World.start()
        var layout = TensorLayout()
        let a = try layout.add("a", shape: [37, 5])                 // decays with the default 0.5 (or 0.5/lr)
        let b = try layout.add("b", shape: [7], decays: false)       // no decay
        let c = try layout.add("c", shape: [3, 11])                  // own group
        let lr: Float = 0.01, wd: Float = decoupled ? 0.002 : 0.5
        let schedule = Schedule(kind: .cosine, warmupSteps: 2, totalSteps: 8, minLR: 0.001)
        let opt = try DistributedOptimizer(
            tensors: layout.tensors,
            options: .lion(lr: lr, betas: (0.9, 0.99), weightDecay: wd, decoupledWeightDecay: decoupled),
            groups: [TensorGroup(tensors: ["c"], lrScale: 0.5, weightDecay: 0.25, betas: (0.8, 0.95))],
            schedule: schedule, threads: 2, world: world)
        var reference = LionPyTorch(
            groups: [.init(range: a.range, lr: Double(lr), weightDecay: Double(wd), betas: (Double(Float(0.9)), Double(Float(0.99)))),
                     .init(range: b.range, lr: Double(lr), weightDecay: 0, betas: (Double(Float(0.9)), Double(Float(0.99)))),
                     .init(range: c.range, lr: Double(lr) * 0.5, weightDecay: 0.25, betas: (Double(Float(0.8)), Double(Float(0.95))))],
            initLR: Double(lr), decoupled: decoupled, expAvg: [Float](repeating: 0, count: layout.count))

        var rng = SeededRandom(seed: decoupled ? 7 : 8)
        var p = (0..<layout.count).map { _ in Float.random(in: -1...1, using: &rng) }
        for i in 0..<p.count { opt.parameters[i] = p[i] }
        for s in 0..<8 {
            let g = (0..<layout.count).map { _ in Float.random(in: -1...1, using: &rng) }
            for i in 0..<g.count { opt.gradients[i] = g[i] }
            let scheduled = schedule.lr(atStep: s, baseLR: lr)
            XCTAssertEqual(opt.learningRate, scheduled)
            let result = try opt.step()
            XCTAssertTrue(result.applied)
            reference.step(&p, grads: g, lrFactor: Double(scheduled) / Double(lr))
            for i in 0..<p.count {
                // Float vs Double scalars (1 - lr*wd, wd/lr) differ in the last bits only.
                XCTAssertEqual(opt.parameters[i], p[i], accuracy: 2e-6 * max(1, abs(p[i])),
                               "step \(s + 1), element \(i), decoupled \(decoupled)")
            }
        }
        let state = try opt.stateDict()
        for t in layout.tensors {
            for (k, i) in t.range.enumerated() {
                XCTAssertEqual(state.tensors[t.name]!.expAvg[k], reference.expAvg[i], accuracy: 1e-5 * max(1, abs(reference.expAvg[i])))
            }
        }
    }

    func testCoupledDecayMatchesLionPyTorch() throws { try trajectory(decoupled: false) }

    func testDecoupledDecayMatchesLionPyTorch() throws { try trajectory(decoupled: true) }
}

// A softmax classifier of 2-D points into 3 clusters, as a `Workload`: lion-dist's trainer
// runs it data-parallel with sharded Lion, prints progress and evaluations, and can write
// `--metrics` JSON Lines and checkpoints.
//
//   mpirun -n 2 .build/release/CustomWorkload [--epochs 5] [--metrics run.jsonl] [--checkpoint DIR]
//                                             [--fail-on-rank R]   (rank R throws in step 3: the job ends)
import Foundation
import LionDist

/// SplitMix64 hashed to a float in [-1, 1): the same numbers on every rank.
func noise(_ a: Int, _ b: Int, _ c: Int) -> Float {
    var z = (UInt64(a) << 40 ^ UInt64(b) << 4 ^ UInt64(c)) &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Float((z ^ (z >> 31)) >> 40) / Float(1 << 23) - 1
}

/// Point `i` of set `set` (0: training, 1: evaluation): class i % 3, around one of three centres.
func point(set: Int, _ i: Int) -> (x: (Float, Float), label: Int) {
    let label = i % 3, angle = 2 * Float.pi * Float(label) / 3
    return ((1.5 * cos(angle) + noise(set, i, 0), 1.5 * sin(angle) + noise(set, i, 1)), label)
}

/// What `--fail-on-rank` makes one rank throw: the trainer ends the job with its message.
struct BrokenShard: Error, CustomStringConvertible {
    let rank: Int
    var description: String { "rank \(rank) cannot read its shard of the data (--fail-on-rank)" }
}

final class Clusters: Workload {
    let rank: Int, ranks: Int, globalBatch: Int, epochs: Int
    var failOnRank: Int?
    let trainSize = 3000, evalSize = 600
    let tensors: [ParameterTensor]
    let parameterCount: Int

    init(world: World, globalBatch: Int, epochs: Int) throws {
        rank = world.rank; ranks = world.size
        self.globalBatch = globalBatch; self.epochs = epochs
        var layout = TensorLayout()
        try layout.add("weight", shape: [3, 2])
        try layout.add("bias", shape: [3], decays: false)
        tensors = layout.tensors
        parameterCount = layout.count
    }

    var name: String { "clusters" }
    var stepsPerPeriod: Int { trainSize / globalBatch }
    var periods: Int { epochs }

    func initialize(_ params: ParameterValues, seed: UInt64) {
        for k in 0..<parameterCount { params[k] = 0.1 * noise(Int(seed), 99, k) }
    }

    /// Softmax cross-entropy of one point under `weight` [3, 2] and `bias` [3]; adds its
    /// gradient times `scale` into the weight and bias gradients if given.
    func loss(_ weight: TensorView, _ bias: TensorView, _ x: (Float, Float), _ label: Int,
              grads: (weight: TensorView, bias: TensorView)? = nil, scale: Float = 0) -> (loss: Double, correct: Bool) {
        let logits = (0..<3).map { weight[$0, 0] * x.0 + weight[$0, 1] * x.1 + bias[$0] }
        let top = logits.max()!, exps = logits.map { exp($0 - top) }, total = exps.reduce(0, +)
        if let g = grads {
            for c in 0..<3 {
                let d = (exps[c] / total - (c == label ? 1 : 0)) * scale   // dL/dlogit_c
                g.weight[c, 0] += d * x.0; g.weight[c, 1] += d * x.1; g.bias[c] += d
            }
        }
        return (Double(log(total) - (logits[label] - top)), logits.firstIndex(of: top) == label)
    }

    /// Gradients go tensor by tensor where `grads` says (`grads[tensor]`).
    func forwardBackward(step: Int, params: ParameterValues, grads: GradientSink,
                         segmentDone: (Int) throws -> Void) throws -> LossSums {
        if rank == failOnRank && step == 3 { throw BrokenShard(rank: rank) }
        // This rank's rows of global step `step`'s batch.
        let local = globalBatch / ranks, first = (step % stepsPerPeriod) * globalBatch + rank * local
        let (weight, bias) = (params[tensors[0]], params[tensors[1]])
        let g = (weight: grads[tensors[0]], bias: grads[tensors[1]])
        g.weight.fill(0)
        g.bias.fill(0)
        var sum = 0.0
        for i in first..<(first + local) {
            let (x, label) = point(set: 0, (i * 7919 + step / stepsPerPeriod) % trainSize)
            sum += loss(weight, bias, x, label, grads: g, scale: 1 / Float(local)).loss
        }
        for s in stride(from: segments.count - 1, through: 0, by: -1) { try segmentDone(s) }
        return LossSums(lossSum: sum, count: Double(local))
    }

    func evaluate(params: ParameterValues) -> LossSums {
        let (weight, bias) = (params[tensors[0]], params[tensors[1]])
        var sum = 0.0, correct = 0.0, count = 0.0
        for i in stride(from: rank, to: evalSize, by: ranks) {
            let (x, label) = point(set: 1, i)
            let r = loss(weight, bias, x, label)
            sum += r.loss; correct += r.correct ? 1 : 0; count += 1
        }
        return LossSums(lossSum: sum, count: count, correct: correct)
    }
}

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    return args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
}

func main() throws {
    let world = try World.start()
    defer { world.finish() }
    let model = try Clusters(world: world, globalBatch: 60, epochs: Int(option("--epochs") ?? "5") ?? 5)
    model.failOnRank = option("--fail-on-rank").flatMap { Int($0) }
    var config = TrainConfig(globalBatch: 60, optimizer: .lion(lr: 1e-2, weightDecay: 0.1),
                             schedule: Schedule(kind: .cosine, warmupSteps: 10))
    config.metricsPath = option("--metrics")
    config.checkpoint.directory = option("--checkpoint")
    let summary = try Trainer(workload: model, config: config, world: world).train()
    if world.isRoot { print("final eval accuracy \(summary.evaluation.accuracy ?? .nan)") }
}

do {
    try main()
} catch {
    FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
    exit(1)
}

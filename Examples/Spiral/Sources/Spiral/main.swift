// A 2-64-3 ReLU classifier of a synthetic 3-class spiral (3,000 points), on lion-dist's
// layers and sampler, trained data-parallel with sharded Lion by the ready-made trainer.
//
//   mpirun -n 2 .build/release/Spiral [--epochs 40] [--metrics run.jsonl]
import Foundation
import LionDist

/// `count` points on three spiral arms (class i % 3), radius in [0, 1), a little angular noise.
func spiral(_ count: Int, seed: UInt64) -> (x: [Float], y: [Int]) {
    var rng = SplitMix64(seed: seed)
    var x: [Float] = [], y: [Int] = []
    for i in 0..<count {
        let r = Float(rng.nextUnit()), angle = Float(i % 3) * 2 * .pi / 3 + 4 * r + 0.2 * Float(rng.nextUnit() - 0.5)
        x += [r * sin(angle), r * cos(angle)]
        y.append(i % 3)
    }
    return (x, y)
}

final class Spiral: Workload {
    let model = try! Sequential(input: [2], [Linear(2, 64), ReLU(), Linear(64, 3)])
    let train = spiral(3000, seed: 1), test = spiral(600, seed: 2)
    let sampler: BatchSampler, rank: Int, ranks: Int, periods: Int

    init(world: World, globalBatch: Int, epochs: Int) throws {
        sampler = try BatchSampler(count: 3000, globalBatch: globalBatch, rank: world.rank, ranks: world.size, seed: 7)
        (rank, ranks, periods) = (world.rank, world.size, epochs)
    }

    var name: String { "spiral" }
    var tensors: [ParameterTensor] { model.tensors }
    var parameterCount: Int { model.parameterCount }
    var stepsPerPeriod: Int { sampler.stepsPerEpoch }

    /// Samples `indices` of `set`: their points (flat) and labels.
    func rows(_ set: (x: [Float], y: [Int]), _ indices: [Int]) -> ([Float], [Int]) {
        (indices.flatMap { set.x[2 * $0 ..< 2 * $0 + 2] }, indices.map { set.y[$0] })
    }

    func initialize(_ params: ParameterValues, seed: UInt64) {
        model.initialize(params, seed: seed)
    }

    func forwardBackward(step: Int, params: ParameterValues, grads: GradientSink,
                         segmentDone: (Int) throws -> Void) throws -> LossSums {
        let (x, y) = rows(train, sampler.indices(step: step))
        return LossSums(try model.forwardBackward(input: x, labels: y, params: params,
                                                  grads: grads, segmentDone: segmentDone))
    }

    func evaluate(params: ParameterValues) -> LossSums {
        let (x, y) = rows(test, Array(EvaluationSplit.share(of: 600, rank: rank, ranks: ranks)))
        return LossSums(model.evaluate(input: x, labels: y, params: params))
    }
}

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    return args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
}

do {
    let world = try World.start()
    defer { world.finish() }
    let model = try Spiral(world: world, globalBatch: 100, epochs: Int(option("--epochs") ?? "40") ?? 40)
    var config = TrainConfig(globalBatch: 100, optimizer: .lion(lr: 1e-2, weightDecay: 0.01),
                             schedule: Schedule(kind: .cosine, warmupSteps: 30))
    config.metricsPath = option("--metrics")
    let summary = try Trainer(workload: model, config: config, world: world).train()
    if world.isRoot { print(String(format: "held-out accuracy %.2f%%", 100 * (summary.evaluation.accuracy ?? .nan))) }
} catch {
    FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
    exit(1)
}

// A linear model y = w.x + b fitted with sharded Lion under mpirun: your own model, your own
// loop, one optimizer call per step.
//
//   mpirun -n 2 .build/release/LinearRegression [--steps 200] [--comm allreduce|reduce-scatter] [--out params.f32]
//
// The data are chosen so that every sum is exact in fp32 (small integer features, targets and
// weights on a 1/64 grid, batch sizes and lr powers of two): the mean gradient is then the same
// bits whether one rank sums 64 rows or two ranks sum 32 each and average, so the run gives
// the same parameters, bit for bit, at any number of ranks that divides the batch.
import Foundation
import LionDist

/// SplitMix64: the same numbers on every rank.
func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Feature j of global sample i of step s: an integer in -2...2.
func feature(step s: Int, sample i: Int, _ j: Int) -> Float {
    Float(Int(mix(UInt64(s) << 40 ^ UInt64(i) << 8 ^ UInt64(j)) % 5) - 2)
}

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    return args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
}

let inputs = 8, globalBatch = 64
let trueW = (0..<inputs).map { Float(2 * $0 - 7) / 8 }, trueB: Float = 0.5

func main() throws {
    let world = try World.start()
    defer { world.finish() }
    let steps = Int(option("--steps") ?? "200") ?? 200
    let comm = CommKind(rawValue: option("--comm") ?? "allreduce") ?? .allreduce
    guard globalBatch % world.size == 0 else {
        throw LionDistError(.invalidArgument, "the batch of \(globalBatch) does not split over \(world.size) ranks; use 1, 2, 4, ... ranks")
    }

    // The model: named tensors over one flat buffer.
    var layout = TensorLayout()
    let w = try layout.add("w", shape: [inputs])
    let b = try layout.add("b", shape: [1], decays: false)
    let opt = try DistributedOptimizer(tensors: layout.tensors, options: .lion(lr: 1.0 / 64), comm: comm, world: world)
    if world.isRoot { print("LinearRegression: \(world.size) rank(s), \(opt.parameterCount) parameters, \(opt.communication)") }

    let local = globalBatch / world.size, first = world.rank * local
    for s in 0..<steps {
        // Typed views of each tensor: parameters to read, this rank's gradient to write.
        let (pw, pb) = (opt.parameters[w], opt.parameters[b])
        let (gw, gb) = (opt.gradients[w], opt.gradients[b])
        gw.fill(0); gb.fill(0)
        var lossSum = 0.0
        // Forward and backward over this rank's rows of the global batch.
        for i in first..<(first + local) {
            let x = (0..<inputs).map { feature(step: s, sample: i, $0) }
            var y = trueB, pred = pb[0]
            for j in 0..<inputs { y += trueW[j] * x[j]; pred += pw[j] * x[j] }
            let r = pred - y                                   // loss_i = r^2
            lossSum += Double(r * r)
            for j in 0..<inputs { gw[j] += r * x[j] }
            gb[0] += r
        }
        let scale = 2 / Float(local)                           // d mean(r^2) = 2 r x / local
        for j in 0..<inputs { gw[j] *= scale }
        gb[0] *= scale
        let result = try opt.step(sums: [lossSum, Double(local)])
        if world.isRoot && (s % 20 == 0 || s == steps - 1) {
            print("step \(s + 1) loss \(result.sums[0] / result.sums[1])")
        }
    }
    if world.isRoot {
        print("w \(opt.parameters[w].elements) b \(opt.parameters[b][0])")
        let m = opt.memory
        print("optimizer state on rank 0: \(m.optimizerStateBytes) bytes (unsharded: \(m.unshardedStateBytes))")
        if let out = option("--out") {
            try opt.parameters.elements.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: out))
        }
    }
}

do {
    try main()
} catch {
    FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
    exit(1)
}

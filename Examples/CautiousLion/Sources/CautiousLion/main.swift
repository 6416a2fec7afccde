// Cautious Lion on two tensors whose sizes (1009 and 2555) neither 2, 3 nor 4 divides, so at
// W = 2, 3, 4 shard boundaries cut through them and the last shard holds padding: each tensor's
// scale mean must be summed over the ranks.
//
//   mpirun -n 3 .build/release/CautiousLion [--cautious-factor 0] [--steps 40] [--out params.f32] [--dump DIR]
//
// Every rank writes the same gradient, a deterministic function of (step, element) on a 1/1024
// grid with some exact zeros: W copies sum exactly and the mean is the same bits at any W, so
// a replay of the formula (from the files `--dump` writes: p-0.f32 and g-STEP.f32) must give
// these parameters bit for bit.
import Foundation
import LionDist

func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A multiple of 1/1024 in [-1, 1); one in eight exactly 0.
func gridValue(_ key: UInt64) -> Float {
    let r = mix(key)
    return r & 7 == 0 ? 0 : Float(Int((r >> 8) % 2048) - 1024) / 1024
}

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    return args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
}

func write(_ values: [Float], to path: String) throws {
    try values.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: path))
}

func main() throws {
    let world = try World.start()
    defer { world.finish() }
    let steps = Int(option("--steps") ?? "40") ?? 40
    let factor = Float(option("--cautious-factor") ?? "0") ?? 0
    let dump = option("--dump")

    var layout = TensorLayout()
    let a = try layout.add("a", shape: [1009])                 // decays (weightDecay 0.1)
    _ = try layout.add("b", shape: [5, 511], decays: false)    // 2555 elements, no decay
    let opt = try DistributedOptimizer(tensors: layout.tensors,
                                       options: .lion(lr: 0.01, betas: (0.9, 0.99), weightDecay: 0.1, cautiousFactor: factor),
                                       comm: .reduceScatter, world: world)
    let n = opt.parameterCount
    for i in 0..<n { opt.parameters[i] = gridValue(UInt64(i) | 1 << 60) }
    if world.isRoot, let dump { try write(opt.parameters.elements, to: "\(dump)/p-0.f32") }
    var masked = 0.0
    for s in 0..<steps {
        let g = opt.gradients
        for i in 0..<n { g[i] = gridValue(UInt64(s) << 32 | UInt64(i)) }
        if world.isRoot, let dump { try write(g.elements, to: "\(dump)/g-\(s).f32") }
        let result = try opt.step()
        masked += result.maskedFraction ?? 0
    }
    if world.isRoot {
        print("CautiousLion: \(world.size) rank(s), tensors \(a.count) and \(n - a.count), factor \(factor), \(steps) steps, "
              + String(format: "%.1f%% masked per step", 100 * masked / Double(max(steps, 1))))
        if let out = option("--out") { try write(opt.parameters.elements, to: out) }
    }
}

do {
    try main()
} catch {
    FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
    exit(1)
}

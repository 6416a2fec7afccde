import Foundation
import LionDist
import XCTest

/// The state dict and the one-file checkpoint: what goes out comes back, and a resumed
/// optimizer continues bit for bit; bad input is refused with a one-line `LionDistError`.
final class StateAndCheckpointTests: XCTestCase {
    func makeOptimizer(_ options: OptimizerOptions) throws -> (DistributedOptimizer, TensorLayout) {
        var layout = TensorLayout()
        try layout.add("emb", shape: [50, 3])
        try layout.add("gain", shape: [3], decays: false)
        try layout.add("head", shape: [4, 3])
        let opt = try DistributedOptimizer(tensors: layout.tensors, options: options,
                                           groups: [TensorGroup(tensors: ["head"], lrScale: 2, betas: (0.5, 0.9))],
                                           schedule: Schedule(kind: .rsqrt, warmupSteps: 2), threads: 1, world: try World.start())
        return (opt, layout)
    }

    /// Steps `opt` with gradients from `seed`, `steps` times.
    func run(_ opt: DistributedOptimizer, steps: Int, seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<steps {
            for i in 0..<opt.parameterCount { opt.gradients[i] = Float.random(in: -1...1, using: &rng) }
            try opt.step()
        }
    }

    func bits(_ opt: DistributedOptimizer) -> [UInt32] { opt.parameters.elements.map(\.bitPattern) }

    func testStateDictRoundTripContinuesBitwise() throws {
        for options in [OptimizerOptions.lion(lr: 1e-2, weightDecay: 0.1, stateDType: .bf16), .adamw(lr: 1e-2)] {
            let (a, _) = try makeOptimizer(options)
            let (b, _) = try makeOptimizer(options)
            for i in 0..<a.parameterCount { a.parameters[i] = Float(i % 7) * 0.1 }
            try run(a, steps: 3, seed: 1)
            let saved = try a.stateDict()
            XCTAssertEqual(saved.stepCount, 3)
            XCTAssertEqual(Set(saved.tensors.keys), ["emb", "gain", "head"])
            XCTAssertEqual(saved.tensors["head"]!.shape, [4, 3])
            XCTAssertEqual(saved.tensors["emb"]!.expAvgSq != nil, options.algorithm == .adamw)
            XCTAssertTrue(saved.tensors["emb"]!.expAvg.contains { $0 != 0 })
            try b.load(saved)
            for i in 0..<a.parameterCount { b.parameters[i] = a.parameters[i] }
            XCTAssertEqual(try b.stateDict(), saved)
            try run(a, steps: 2, seed: 2)
            try run(b, steps: 2, seed: 2)
            XCTAssertEqual(bits(a), bits(b), "\(options.algorithm) continues differently after load")
        }
    }

    func testLoadRefusesMismatchedDict() throws {
        let (opt, _) = try makeOptimizer(.lion())
        var dict = try opt.stateDict()
        dict.tensors["extra"] = TensorState(shape: [1], expAvg: [0])
        XCTAssertThrowsError(try opt.load(dict)) { XCTAssertEqual(($0 as? LionDistError)?.kind, .invalidArgument) }
        dict = try opt.stateDict()
        dict.tensors["gain"]!.expAvg.removeLast()
        XCTAssertThrowsError(try opt.load(dict)) {
            XCTAssertTrue(String(describing: $0).contains("tensor \"gain\" has shape [3] and [2] values"), "\($0)")
        }
        dict = try opt.stateDict()
        dict.algorithm = .adamw
        XCTAssertThrowsError(try opt.load(dict)) { XCTAssertEqual(String(describing: $0), "state dict is for adamw, this optimizer is lion") }
    }

    func testCheckpointRoundTripContinuesBitwise() throws {
        let dir = try temporaryDirectory("ckpt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, _) = try makeOptimizer(.lion(lr: 1e-2, weightDecay: 0.1))
        for i in 0..<a.parameterCount { a.parameters[i] = Float(i % 5) * 0.2 }
        try run(a, steps: 4, seed: 3)
        let path = try a.saveCheckpoint(directory: dir)
        XCTAssertEqual(DistributedOptimizer.newestCheckpoint(in: dir), path)
        let (b, _) = try makeOptimizer(.lion(lr: 1e-2, weightDecay: 0.1))
        try b.loadCheckpoint(path)
        XCTAssertEqual(b.stepCount, 4)
        XCTAssertEqual(bits(a), bits(b))
        try run(a, steps: 2, seed: 4)
        try run(b, steps: 2, seed: 4)
        XCTAssertEqual(bits(a), bits(b))
        // Other hyperparameters: refused, nothing loaded.
        let (c, _) = try makeOptimizer(.lion(lr: 2e-2, weightDecay: 0.1))
        XCTAssertThrowsError(try c.loadCheckpoint(path)) { error in
            XCTAssertEqual((error as? LionDistError)?.kind, .checkpoint, "\(error)")
            XCTAssertTrue(String(describing: error).contains("lr"), "\(error)")
        }
        XCTAssertEqual(c.stepCount, 0)
    }

    func testMemoryAccountIsTheShardedState() throws {
        let (opt, layout) = try makeOptimizer(.adamw(stateDType: .bf16))
        let m = opt.memory
        XCTAssertEqual(m.unshardedStateBytes, layout.count * 2 * 2)
        XCTAssertEqual(m.optimizerStateBytes, (layout.count + 15) / 16 * 16 * 2 * 2)   // one rank: all of it, padded
        let all = try opt.memoryOfAllRanks()
        XCTAssertEqual(all.map(\.rank), [0])
        XCTAssertEqual(all[0].optimizerStateBytes, m.optimizerStateBytes)
        XCTAssertEqual(all[0].parameterBytes, m.parameterBytes)
        XCTAssertGreaterThan(m.peakRSSBytes, 0)
    }
}

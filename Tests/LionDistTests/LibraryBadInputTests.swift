import LionDist
import XCTest

/// Bad input is thrown, never trapped: each a `LionDistError` with one line naming the value.
final class LibraryBadInputTests: XCTestCase {
    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let e as LionDistError {
            XCTAssertFalse(e.message.contains("\n"))
            return e.message
        } catch { return "not a LionDistError: \(error)" }
        return "no error"
    }

    func testBadArgumentsThrowOneLine() throws {
        let world = try World.start()
        var layout = TensorLayout()
        try layout.add("w", shape: [4, 4])
        let t = layout.tensors
        XCTAssertEqual(message { try layout.add("w", shape: [2]) }, "tensor \"w\" is named twice; give each tensor its own name")
        XCTAssertEqual(message { try layout.add("z", shape: [3, 0]) }, "tensor \"z\": shape [3, 0] must have dimensions >= 1")
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: t, options: .lion(lr: 0), world: world) },
                       "lr must be > 0 and finite, got 0.0")
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: t, options: .lion(betas: (0.9, 1)), world: world) },
                       "beta2 must be in [0, 1), got 1.0")
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: t, options: .lion(weightDecay: -1), world: world) },
                       "weightDecay must be >= 0 and finite, got -1.0")
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: t, options: .lion(cautiousFactor: 1.5), world: world) },
                       "cautiousFactor must be in [0, 1], got 1.5")
        var adamw = OptimizerOptions.adamw()
        adamw.cautiousFactor = 0
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: t, options: adamw, world: world) },
                       "cautiousFactor must be 1 with AdamW (the cautious mask is Lion's), got 0.0")
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: [], options: .lion(), world: world) },
                       "a model needs at least one tensor")
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: t, options: .lion(), groups: [TensorGroup(tensors: ["q"])], world: world) },
                       "group 0 names tensor \"q\", which the model does not have")
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: t, options: .lion(), groups: [TensorGroup(tensors: ["w"], betas: (1.5, 0))], world: world) },
                       "group 0: betas must be in [0, 1), got (1.5, 0.0)")
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: t, options: .lion(), clipNorm: -1, world: world) },
                       "clipNorm must be >= 0 and finite (0: off), got -1.0")
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: t, options: .lion(), schedule: Schedule(kind: .cosine), world: world) },
                       "schedule: a cosine needs totalSteps (0) > warmupSteps (0)")
        XCTAssertEqual(message { _ = try DistributedOptimizer(tensors: t, options: .lion(), threads: 0, world: world) },
                       "threads must be >= 1 (nil: from the affinity mask), got 0")
        let opt = try DistributedOptimizer(tensors: t, options: .lion(), threads: 1, world: world)
        XCTAssertTrue(message { try opt.loadCheckpoint("/nonexistent/ckpt-00000001.lion") }.contains("/nonexistent/ckpt-00000001.lion"))
        XCTAssertEqual(message { try opt.saveCheckpoint(directory: "/tmp", keep: 0) }, "keep must be >= 1, got 0")
    }

    func testNonFiniteGradientSkipsTheStep() throws {
        var layout = TensorLayout()
        try layout.add("w", shape: [8])
        let opt = try DistributedOptimizer(tensors: layout.tensors, options: .lion(), threads: 1, world: try World.start())
        for i in 0..<8 { opt.parameters[i] = 1; opt.gradients[i] = 1 }
        opt.gradients[3] = .nan
        let r = try opt.step(sums: [2, 3])
        XCTAssertFalse(r.applied)
        XCTAssertEqual(r.sums, [2, 3])
        XCTAssertEqual(opt.parameters.elements, [Float](repeating: 1, count: 8))
        XCTAssertEqual(opt.stepCount, 1)
        XCTAssertEqual(opt.skippedSteps, 1)
    }
}

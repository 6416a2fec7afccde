import LionDist
import RankProcess
@testable import Training
import XCTest

/// glibc's malloc_trim (malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
func mallocTrim(_ pad: Int) -> Int32

/// A user's `Workload` gets its own memory plan: the end-of-run table's "predicted" column is
/// the planner's figure for THIS model (its parameters, its `plannedBytes`), not a built-in
/// model's. Each category the planner predicts equals what the run held, and the predicted
/// total is within 10% of what the run measured. The test process holds more than a run's
/// process would (XCTest, the tests before this one), so the measured side is the growth of
/// its Pss from before the run (the heap trimmed first, so reused pages count) to the run's
/// peak, and the predicted side leaves out the runtime baseline that such a process has already.
final class UserWorkloadPlanTests: XCTestCase {
    /// One 2000 x 2000 matrix (4 M parameters, 16 MB) and a 24 MB activation buffer it touches
    /// every step: big enough that a plan of another model shows, and that what the test
    /// process adds besides (the pool's threads, the rate measured at start) stays small beside it.
    final class Wide: Workload {
        let tensors: [ParameterTensor]
        let parameterCount: Int
        var activations: [Float]

        init() throws {
            var layout = TensorLayout()
            try layout.add("w", shape: [2000, 2000])
            tensors = layout.tensors
            parameterCount = layout.count
            activations = [Float](repeating: 0, count: 6 << 20)
        }

        var name: String { "wide" }
        var stepsPerPeriod: Int { 3 }
        var periods: Int { 1 }
        var heldBytes: WorkloadBytes { WorkloadBytes(activations: activations.count * 4, dataset: 0) }

        func initialize(_ params: ParameterValues, seed: UInt64) {
            let w = params[tensors[0]]
            for i in 0..<parameterCount { w[i] = Float(i % 17) * 0.01 }
        }

        func forwardBackward(step: Int, params: ParameterValues, grads: GradientSink,
                             segmentDone: (Int) throws -> Void) throws -> LossSums {
            for i in activations.indices { activations[i] = Float(i % 5 + step) }
            let (p, g) = (params[tensors[0]], grads[tensors[0]])
            var loss = 0.0
            for i in 0..<parameterCount {
                g[i] = p[i] - 0.5
                loss += Double(g[i] * g[i])
            }
            try segmentDone(0)
            return LossSums(lossSum: loss, count: 1)
        }

        func evaluate(params: ParameterValues) -> LossSums { LossSums(lossSum: 1, count: 1) }
    }

    func testPredictedColumnIsTheUsersModel() throws {
        let world = try World.start()
        _ = mallocTrim(0)
        let before = ProcessMemory.pssBytes()
        var config = TrainConfig(globalBatch: world.size, optimizer: .lion(lr: 1e-3))
        config.threads = 1
        config.stallTimeout = 0
        let trainer = try Trainer(workload: try Wide(), config: config, world: world)
        let summary = try trainer.train()
        let planned = trainer.plan().perRank, row = summary.ranks[0]
        XCTAssertEqual(trainer.plan().parameterCount, 2000 * 2000)
        XCTAssertEqual(planned.parameters, row.held.parameters)
        XCTAssertEqual(planned.gradients, row.held.gradients)
        XCTAssertEqual(planned.optimizerState, row.held.optimizerState)
        XCTAssertEqual(planned.activations, 24 << 20)
        XCTAssertEqual(planned.activations, row.held.activations)
        XCTAssertEqual(planned.dataset, 0)
        let predicted = Double(planned.total - planned.runtime), measured = Double(row.peakPssBytes - before)
        XCTAssertEqual(predicted, measured, accuracy: 0.10 * predicted, "predicted \(predicted) B, measured \(measured) B")
    }
}

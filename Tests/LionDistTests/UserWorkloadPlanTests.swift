import LionDist
@testable import Training
import XCTest

/// A user's `Workload` gets its own memory plan: the end-of-run table's "predicted" column is
/// the planner's figure for THIS model (its parameters, its `plannedBytes`), not a built-in
/// model's. Each category the planner predicts equals what the run held, and the total is
/// within 10% of the peak Pss measured (the planner's runtime baseline is its only estimate).
final class UserWorkloadPlanTests: XCTestCase {
    /// One 1500 x 1500 matrix (2.25 M parameters, 9 MB) and a 12 MB activation buffer it
    /// touches every step: big enough that a plan of another model shows.
    final class Wide: Workload {
        let tensors: [ParameterTensor]
        let parameterCount: Int
        var activations: [Float]

        init() throws {
            var layout = TensorLayout()
            try layout.add("w", shape: [1500, 1500])
            tensors = layout.tensors
            parameterCount = layout.count
            activations = [Float](repeating: 0, count: 3 << 20)
        }

        var name: String { "wide" }
        var stepsPerPeriod: Int { 3 }
        var periods: Int { 1 }
        var heldBytes: WorkloadBytes { WorkloadBytes(activations: activations.count * 4, dataset: 0) }

        func initialize(_ params: UnsafeMutablePointer<Float>, seed: UInt64) {
            for i in 0..<parameterCount { params[i] = Float(i % 17) * 0.01 }
        }

        func forwardBackward(step: Int, params: UnsafePointer<Float>, grads: any GradientSink,
                             segmentDone: (Int) throws -> Void) throws -> LossSums {
            for i in activations.indices { activations[i] = Float(i % 5 + step) }
            let g = grads.at(0)
            var loss = 0.0
            for i in 0..<parameterCount {
                g[i] = params[i] - 0.5
                loss += Double(g[i] * g[i])
            }
            try segmentDone(0)
            return LossSums(lossSum: loss, count: 1)
        }

        func evaluate(params: UnsafePointer<Float>) -> LossSums { LossSums(lossSum: 1, count: 1) }
    }

    func testPredictedColumnIsTheUsersModel() throws {
        let world = try World.start()
        var config = TrainConfig(globalBatch: world.size, optimizer: .lion(lr: 1e-3))
        config.threads = 1
        let trainer = try Trainer(workload: try Wide(), config: config, world: world)
        let summary = try trainer.train()
        let planned = trainer.plan().perRank, row = summary.ranks[0]
        XCTAssertEqual(trainer.plan().parameterCount, 1500 * 1500)
        XCTAssertEqual(planned.parameters, row.held.parameters)
        XCTAssertEqual(planned.gradients, row.held.gradients)
        XCTAssertEqual(planned.optimizerState, row.held.optimizerState)
        XCTAssertEqual(planned.activations, 12 << 20)
        XCTAssertEqual(planned.activations, row.held.activations)
        XCTAssertEqual(planned.dataset, 0)
        XCTAssertEqual(Double(planned.total), Double(row.peakPssBytes), accuracy: 0.10 * Double(row.peakPssBytes),
                       "predicted \(planned.total) B, measured peak Pss \(row.peakPssBytes) B")
    }
}

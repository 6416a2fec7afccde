import Basics
import Collectives
import DataParallel
import Foundation
import LionEngine
import Model
import Sharding
import RankProcess
@testable import Training
import XCTest

/// How many scalar collectives one step costs, counted by `Communicator.scalarCollectives`
/// (every allreduce of doubles or of one integer: norms, sums, agreements, stop flags; not the
/// gradient exchange itself), in one process with MPI as a singleton (W = 1: the same calls a
/// rank of W makes, each a real MPI_Allreduce). A step must cost exactly one: the gradient
/// norm with the loss sums and the stop flag riding on it.
final class StepCollectivesTests: XCTestCase {
    static let topology: Topology = {
        try! MPIRuntime.initialize()
        return try! Topology(world: try! Communicator.world())
    }()

    static let tensors = [ParameterTensor(name: "w", offset: 0, shape: [3, 5], decays: true),
                          ParameterTensor(name: "b", offset: 15, shape: [3], decays: false)]

    /// Every exchange the step's owner builds: one scalar allreduce per step, and the sums come back.
    func testTheStepOwnerRunsOneScalarCollectivePerStepOnEveryExchange() throws {
        let exchanges: [Exchange] = [.combine(.allreduce), .combine(.allreduce, overlap: true),
                                     .combine(.reduceScatter), .combine(.reduceScatter, scope: .params, overlap: true),
                                     .combine(.reduceScatter, scope: .gradientsAndParams), .signVote(.majority)]
        for exchange in exchanges {
            let settings = StepSettings(optimizer: .defaults(for: .lion), clipNorm: 1, exchange: exchange, bucketElements: 4)
            let core = try DataParallelStep(tensors: Self.tensors, segments: Self.tensors.map(\.range), settings: settings,
                                            threads: 1, topology: Self.topology)
            if core.writesParameters { for t in Self.tensors { core.parameters[t].fill(0.5) } }
            try core.paramsWritten()
            for step in 0..<3 {
                let before = Communicator.scalarCollectives
                for (i, t) in Self.tensors.enumerated().reversed() {
                    core.gradients[t].fill(Float(step + 1) * 0.1)
                    try core.segmentDone(i)
                }
                let (outcome, sums) = try core.step(lr: 1e-3, sums: [2.5, 7, 0, 1])
                XCTAssertEqual(Communicator.scalarCollectives - before, 1, "\(exchange), step \(step)")
                XCTAssertTrue(outcome.applied, "\(exchange)")
                XCTAssertEqual(sums, [2.5, 7, 0, 1], "\(exchange): the sums ride and come back summed (W = 1)")
            }
            // Lion moved every parameter by lr (sign of a positive gradient) per step, less decay.
            XCTAssertLessThan(core.parameters[Self.tensors[1]][0], 0.5, "\(exchange)")
        }
    }

    /// The trainer's step (forward/backward, the step, the checkpoint and stop check after it):
    /// one scalar collective, with a SIGTERM received on this rank carried in it.
    func testATrainingStepRunsOneScalarCollectiveAndCarriesTheStopFlag() throws {
        var config = TrainConfig()
        config.globalBatch = 4
        config.optimizer = .defaults(for: .lion)
        config.comm = .allreduce
        config.shard = .stateOnly
        config.threads = 1
        config.logInterval = 1e9
        let workload = Tiny(tensors: Self.tensors)
        let trainer = try Trainer(config: config, topology: Self.topology, workload: workload)
        var stats = RunStats()
        for step in 0..<4 {
            if step == 2 {
                StopSignal.install()
                raise(SIGTERM)          // the handler only records it
            }
            let before = Communicator.scalarCollectives
            let loss = try trainer.step(step, stats: &stats)
            if step < 2 {
                try trainer.checkpointAfterStep(LoopPoint(step: step + 1, epoch: 0, stepInEpoch: step + 1), stats: stats)
            }
            XCTAssertEqual(Communicator.scalarCollectives - before, 1, "step \(step)")
            XCTAssertEqual(loss, 1.5, accuracy: 1e-12, "the loss sums ride on the same allreduce")
            XCTAssertEqual(stats.stop, step >= 2 ? SIGTERM : nil, "step \(step)")
        }
        StopSignal.uninstall()
        // The agreed stop ends the run after the step, with the line and no checkpoint (none asked for).
        XCTAssertThrowsError(try trainer.checkpointAfterStep(LoopPoint(step: 4, epoch: 0, stepInEpoch: 4), stats: stats)) {
            XCTAssertTrue(String(describing: $0).contains("stopped by SIGTERM after step 4"), "\($0)")
        }
        XCTAssertEqual(workload.steps, 4)
    }
}

/// A linear model with a constant loss: enough for the trainer to run steps.
final class Tiny: Workload {
    let tensors: [ParameterTensor]
    var steps = 0
    init(tensors: [ParameterTensor]) { self.tensors = tensors }
    var name: String { "tiny" }
    var parameterCount: Int { tensors.map(\.count).reduce(0, +) }
    var stepsPerPeriod: Int { 10 }
    var periods: Int { 1 }

    func initialize(_ params: ParameterValues, seed: UInt64) {
        for t in tensors { params[t].fill(0.25) }
    }

    func forwardBackward(step: Int, params: ParameterValues, grads: GradientSink,
                         segmentDone: (Int) throws -> Void) throws -> LossSums {
        steps += 1
        for (i, t) in tensors.enumerated().reversed() {
            grads[t].fill(params[t][0])
            try segmentDone(i)
        }
        return LossSums(lossSum: 3, count: 2)
    }

    func evaluate(params: ParameterValues) -> LossSums { LossSums(lossSum: 1, count: 1) }
}

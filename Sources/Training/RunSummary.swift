import Sharding

/// What a run reports at its end (rank 0 prints it; `--metrics` gets it as the summary event).
public struct RunSummary: Sendable {
    public let worldSize: Int
    public let optimizer: String
    public let stateDType: String
    public let params: Int
    public let globalBatch: Int
    public let steps: Int
    public let skippedSteps: Int
    public let testAccuracy: Double
    public let testLoss: Double
    public let finalTrainLoss: Double
    public let seconds: Double
    public let samplesPerSecond: Double
    /// Mean seconds per step in each phase, rank 0's clock.
    public let compute: Double
    public let timings: StepTimings
    public let ranks: [RankMemory]
    public let threadsPerRank: Int
    /// One record per epoch run, in order (the last may be partial under `maxSteps`).
    public let perEpoch: [EpochRecord]

    public var json: [(String, JSON)] {
        [("world_size", .int(worldSize)), ("optimizer", .string(optimizer)), ("params", .int(params)),
         ("test_accuracy", .number(testAccuracy)), ("seconds", .number(seconds)),
         ("samples_per_s", .number(samplesPerSecond)),
         ("ranks", .array(ranks.map(\.json))),
         ("state_dtype", .string(stateDType)), ("global_batch", .int(globalBatch)), ("steps", .int(steps)),
         ("skipped_steps", .int(skippedSteps)), ("test_loss", .number(testLoss)),
         ("final_train_loss", .number(finalTrainLoss)),
         ("step_seconds", .object([("compute", .number(compute)), ("combine", .number(timings.combine)),
                                   ("update", .number(timings.update)), ("gather", .number(timings.gather)),
                                   ("comm_total", .number(timings.commTotal)),
                                   ("comm_exposed", .number(timings.commExposed))])),
         ("threads_per_rank", .int(threadsPerRank)),
         ("per_epoch", .array(perEpoch.map(\.json)))]
    }
}

/// Test metrics after one epoch (the `epoch` event of `--metrics`, kept in the summary too).
public struct EpochRecord: Sendable {
    /// 1-based.
    public let epoch: Int
    public let trainLoss: Double
    public let testLoss: Double
    public let testAccuracy: Double
    public let seconds: Double

    var json: JSON {
        .object([("epoch", .int(epoch)), ("train_loss", .number(trainLoss)), ("test_loss", .number(testLoss)),
                 ("test_accuracy", .number(testAccuracy)), ("seconds", .number(seconds))])
    }
}

import Sharding

/// What a run reports at its end (rank 0 prints it; `--metrics` gets it as the summary event).
public struct RunSummary: Sendable {
    /// "mlp" or "gpt".
    public let model: String
    public let worldSize: Int
    public let optimizer: String
    public let stateDType: String
    public let params: Int
    public let globalBatch: Int
    public let steps: Int
    public let skippedSteps: Int
    /// The last evaluation (test set, validation windows) summed over the ranks.
    public let evaluation: LossSums
    public let finalTrainLoss: Double
    public let seconds: Double
    public let samplesPerSecond: Double
    /// Mean seconds per step in each phase, rank 0's clock.
    public let compute: Double
    public let timings: StepTimings
    public let ranks: [RankMemory]
    public let threadsPerRank: Int
    /// One record per period run, in order (the last may be partial under `maxSteps`), as the
    /// workload's period events (`epoch` for the MLP, `eval` for the GPT).
    public let periods: [(event: String, fields: [(String, JSON)])]
    /// Model FLOPs utilisation: the workload's training FLOPs per second over all ranks divided
    /// by W x the sgemm rate measured at start (`sgemmFLOPS`, mean over ranks); nil when the
    /// workload does not count FLOPs.
    public let mfu: Double?
    public let sgemmFLOPS: Double
    /// The workload's own summary keys (`test_accuracy`, `test_loss`; `val_loss`, ...).
    public let evaluationFields: [(String, JSON)]

    /// Test accuracy where the workload classifies (NaN otherwise).
    public var testAccuracy: Double { evaluation.accuracy ?? .nan }

    public var json: [(String, JSON)] {
        let periodKey = "per_" + (periods.first?.event ?? "epoch")
        return [("world_size", .int(worldSize)), ("optimizer", .string(optimizer)), ("params", .int(params))]
            + evaluationFields
            + [("seconds", .number(seconds)), ("samples_per_s", .number(samplesPerSecond)),
               ("ranks", .array(ranks.map(\.json))),
               ("state_dtype", .string(stateDType)), ("global_batch", .int(globalBatch)), ("steps", .int(steps)),
               ("skipped_steps", .int(skippedSteps)),
               ("final_train_loss", .number(finalTrainLoss)),
               ("step_seconds", .object([("compute", .number(compute)), ("combine", .number(timings.combine)),
                                         ("update", .number(timings.update)), ("gather", .number(timings.gather)),
                                         ("comm_total", .number(timings.commTotal)),
                                         ("comm_exposed", .number(timings.commExposed))])),
               ("threads_per_rank", .int(threadsPerRank)),
               (periodKey, .array(periods.map { .object($0.fields) })),
               ("model", .string(model)), ("sgemm_gflops", .number(sgemmFLOPS / 1e9))]
            + (mfu.map { [("mfu", .number($0))] } ?? [])
    }
}

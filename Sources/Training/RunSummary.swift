import MemoryPlanning
import RunSchema
import Sharding

/// What a run reports at its end (rank 0 prints it; `--metrics` gets it as the summary event).
public struct RunSummary: Sendable {
    /// The workload's name.
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
    /// workload's period events (`epoch`, `eval`, ...).
    public let periods: [(event: String, fields: [(String, JSON)])]
    /// Model FLOPs utilisation: the workload's training FLOPs per second over all ranks divided
    /// by W x the sgemm rate measured at start (`sgemmFLOPS`, mean over ranks); nil when the
    /// workload does not count FLOPs.
    public let mfu: Double?
    public let sgemmFLOPS: Double
    /// The precision of the products that ran, `fp32` or `bf16` (the summary's `compute_dtype`).
    public let computeDType: String
    /// The CPU the ranks ran on, as the banner's `cpu:` line says it (the summary's `cpu`).
    public let cpu: String
    /// The workload's own summary keys (`test_accuracy`, `test_loss`; `val_loss`, ...).
    public let evaluationFields: [(String, JSON)]

    /// Test accuracy where the workload classifies (NaN otherwise).
    public var testAccuracy: Double { evaluation.accuracy ?? .nan }

    /// The summary's keys, in this order, through the one schema the sweep reader uses too
    /// (`Summary` in Report).
    public var json: [(String, JSON)] {
        typealias S = Summary
        let t = timings
        let stepSeconds = [S.StepSeconds.compute(compute), S.StepSeconds.combine(t.combine), S.StepSeconds.update(t.update),
                           S.StepSeconds.gather(t.gather), S.StepSeconds.commTotal(t.commTotal),
                           S.StepSeconds.commExposed(t.commExposed)]
        return [S.worldSize(worldSize), S.optimizer(optimizer), S.params(params)]
            + evaluationFields
            + [S.seconds(seconds), S.samplesPerSecond(samplesPerSecond), S.ranks(ranks.map(\.json)),
               S.stateDType(stateDType), S.globalBatch(globalBatch), S.steps(steps), S.skippedSteps(skippedSteps),
               S.finalTrainLoss(finalTrainLoss), S.stepSeconds(stepSeconds), S.threadsPerRank(threadsPerRank),
               S.periods(periods.first?.event ?? "epoch")(periods.map(\.fields)),
               S.model(model), S.sgemmGFLOPS(sgemmFLOPS / 1e9), S.computeDType(computeDType), S.cpu(cpu)]
            + (mfu.map { [S.mfu($0)] } ?? [])
    }
}

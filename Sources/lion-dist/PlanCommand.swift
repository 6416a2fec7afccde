import ArgumentParser
import MemoryPlanning
import RunSetup
import Training

/// `lion-dist plan [train flags] --ranks W [--ranks-per-node K]`: a rank's memory by category
/// for a training run, predicted without loading data or allocating any model buffer.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Predict the memory per rank of a training run (by category) without running it.",
        discussion: """
        Takes every train flag, plus the rank count; nothing is loaded or allocated, and MPI \
        does not start. Example:
          lion-dist plan --model gpt --n-layer 12 --n-head 12 --n-embd 768 --block-size 256 --batch-size 4 --ranks 4
        The end-of-run memory table of the same run prints these predictions beside what it measured.
        """)

    @OptionGroup var train: TrainCommand

    @Option(help: "Ranks in the run (W).")
    var ranks: Int

    @Option(help: "Ranks per node (default: all on one node).")
    var ranksPerNode: Int?

    func validate() throws {
        if ranks < 1 { throw ValidationError("--ranks must be at least 1, got \(ranks)") }
        if let ranksPerNode, ranksPerNode < 1 { throw ValidationError("--ranks-per-node must be at least 1, got \(ranksPerNode)") }
    }

    func run() throws {
        var config = try train.trainConfig()
        config.computeDType = try train.resolveComputeDType(world: nil)
        do {
            try config.train.applyBatch(batchPerRank: train.batching.batchPerRank, worldSize: ranks,
                                  scaling: train.batching.scaling.lrScaling, baseBatch: train.batching.scaling.baseBatch)
            try TrainConfig.checkBatch(config.globalBatch, worldSize: ranks)
            try config.checkSizes(worldSize: ranks, ranksPerNode: ranksPerNode ?? ranks)
        } catch {
            throw ValidationError(String(describing: error))
        }
        let plan = MemoryPlan(config: config, worldSize: ranks, ranksPerNode: ranksPerNode ?? ranks)
        print("""
        plan: \(config.model.rawValue), \(plan.parameterCount) parameters, \(config.optimizer.kind.rawValue) state \(config.optimizer.stateDType.rawValue), \
        \(ranks) rank(s), \(plan.ranksPerNode) per node; --comm \(config.signVote ? "sign-vote --vote \(config.vote.rawValue)" : config.comm.rawValue) --shard \(config.shard.rawValue): parameters \(plan.parameterPlacement), gradients \(plan.gradientPlacement)
        \(plan.table)
        """)
    }
}

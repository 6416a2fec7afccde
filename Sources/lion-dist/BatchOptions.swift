import ArgumentParser
import RunSetup
import Training

extension LRScaling: ExpressibleByArgument {}

/// `--lr-scaling` and `--base-batch`: the learning rate follows the global batch.
struct LRScalingOptions: ParsableArguments {
    @Option(help: "Scale the learning rate with the global batch B: none, linear (x B/base) or sqrt (x sqrt(B/base)).")
    var lrScaling: LRScaling = .none

    @Option(parsing: .unconditional, help: "The global batch at which --lr (and --min-lr) hold as given, for --lr-scaling.")
    var baseBatch: Int = 256

    func validate() throws {
        if baseBatch < 1 { throw ValidationError("--base-batch must be at least 1, got \(baseBatch)") }
    }
}

/// `--batch-per-rank`: weak scaling, the global batch grows with the ranks.
struct BatchOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Samples per rank per step, instead of --batch-size: the global batch is this times the rank count (weak scaling).")
    var batchPerRank: Int?

    @OptionGroup var scaling: LRScalingOptions

    func validate() throws {
        if let batchPerRank, batchPerRank < 1 { throw ValidationError("--batch-per-rank must be at least 1, got \(batchPerRank)") }
    }
}

import DataParallel
import LionEngine
import SignVote

extension TrainConfig {
    /// How this run's step runs: `--comm`, `--shard`, `--overlap`, `--vote`, `--bucket-mb`, the
    /// optimizer and `--clip-norm`.
    var stepSettings: StepSettings {
        StepSettings(optimizer: optimizer, clipNorm: clipNorm,
                     exchange: signVote ? .signVote(vote) : .combine(comm, scope: shard, overlap: overlap),
                     bucketElements: bucketElements, voteDumpDirectory: voteDumpDirectory)
    }
}

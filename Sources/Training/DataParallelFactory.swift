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

extension MemoryBreakdown {
    /// What `SignVoteOptimizer` holds per rank: a private P and G over the vote layout (padded
    /// to 64W), the bit buffers (`SignVoteWire`: votes, received votes, this shard's result
    /// planes, every shard's), and fp32 momentum for EVERY parameter: 4P, where sharded Lion
    /// holds 4P/W.
    mutating func planSignVote(parameters: Int, worldSize: Int, rule: VoteRule) {
        let votes = SignVoteLayout(count: parameters, worldSize: worldSize)
        let full = votes.paddedCount * 4, planes = rule.resultPlanes(worldSize: worldSize)
        self.parameters = full
        gradients = full + ((2 + planes) * votes.totalWords + planes * votes.shardWords) * 8
        optimizerState = full
    }
}

import Basics
import Collectives
import LionEngine
import Sharding

extension TrainConfig {
    /// The optimizer `--comm` names: sign-vote Lion, or the sharded optimizer over the combiner
    /// `comm` builds. Collective over `world`; `node` is `world.splitByNode()`.
    func makeDataParallelOptimizer(layout: ShardLayout, world: Communicator, node: Communicator, buckets: BucketPlan,
                                   pool: ThreadPool, groups: [ParameterGroup], tensors: [Range<Int>]) throws -> DataParallelOptimizer {
        if signVote {
            try SignVoteSettings.check(optimizer: optimizer, worldSize: world.size)
            return SignVoteOptimizer(layout: layout, config: optimizer, clipNorm: clipNorm, comm: world, pool: pool,
                                     buckets: buckets, groups: groups, rule: vote)
        }
        let combiner = try comm.makeCombiner(layout: layout, world: world, node: node, buckets: buckets,
                                             overlap: overlap, scope: shard)
        return ShardedOptimizer(layout: layout, config: optimizer, clipNorm: clipNorm, comm: world, pool: pool,
                                combiner: combiner, groups: groups, tensors: tensors)
    }
}

/// What `--comm sign-vote` accepts, each refusal one line with the fix. The command line checks
/// it before MPI starts (every rank parses the same argv); the trainer again for library callers.
public enum SignVoteSettings {
    public static func check(optimizer: OptimizerConfig, worldSize: Int) throws {
        guard optimizer.kind == .lion else {
            throw TrainingError("--comm sign-vote votes with the signs of Lion updates; AdamW's update is not a sign: use --optimizer lion, or --comm reduce-scatter for AdamW")
        }
        guard !optimizer.isCautious else {
            throw TrainingError("--comm sign-vote votes with each rank's signs, cautious Lion masks the combined gradient's: drop --cautious-factor, or use --comm reduce-scatter for cautious Lion")
        }
        guard optimizer.stateDType == .fp32 else {
            throw TrainingError("--comm sign-vote keeps fp32 momentum (its voter kernel reads fp32); drop --state-dtype bf16")
        }
        guard worldSize <= SignVoteKernel.maxVoters else {
            throw TrainingError("--comm sign-vote counts at most \(SignVoteKernel.maxVoters) votes per parameter, this run has \(worldSize) ranks; use fewer ranks or --comm reduce-scatter")
        }
    }
}

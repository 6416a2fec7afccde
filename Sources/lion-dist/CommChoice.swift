import ArgumentParser
import RunSetup
import Sharding
import SignVote
import Training

/// The values of `--comm`: a gradient combine (`CommKind`) for the sharded optimizer, or
/// sign-vote Lion (no gradient combine at all).
extension VoteRule: ExpressibleByArgument {}

enum CommChoice: String, CaseIterable, ExpressibleByArgument {
    case allreduce
    case reduceScatter = "reduce-scatter"
    case signVote = "sign-vote"

    /// Sign-vote keeps a private parameter and gradient copy per rank, as allreduce does.
    var kind: CommKind { self == .reduceScatter ? .reduceScatter : .allreduce }

    /// Sets `config.comm`, `shard` and `signVote`; `shard` nil takes the default.
    func apply(to config: inout RunConfig, shard: ShardScope?) {
        config.comm = kind
        config.signVote = self == .signVote
        config.shard = shard ?? (self == .reduceScatter ? .gradientsAndParams : .stateOnly)
    }
}

import Basics
import Collectives
import LionEngine
import Sharding

/// What the owners make of the votes (`--vote`).
public enum VoteRule: String, CaseIterable, Sendable {
    /// The sign of the majority; a tie gives 0. The result is 2 bits (sign, nonzero).
    case majority
    /// The mean of the W votes, (2*count - W)/W (the paper's averaging variant). The result is
    /// the count itself: ceil(log2(W+1)) bits.
    case average

    /// Bit planes of the gathered result for `worldSize` voters.
    public func resultPlanes(worldSize: Int) -> Int {
        self == .majority ? 2 : SignVoteKernel.counterBits(voters: worldSize)
    }

    /// Bits per parameter a rank sends per step: of its 1-bit votes, the (W-1)/W that other
    /// ranks own (MPI_Alltoall), and of the result (`resultPlanes` bits) W-1 copies of its own
    /// 1/W (MPI_Allgather): (1 + planes)(W-1)/W; majority 3(W-1)/W. The same convention
    /// (nccl-tests' bus bytes) gives an fp32 MPI_Allreduce 2(W-1)/W * 32 = 64(W-1)/W.
    public func wireBitsPerParameter(worldSize w: Int) -> Double {
        Double(1 + resultPlanes(worldSize: w)) * Double(w - 1) / Double(w)
    }
}

/// How sign-vote Lion lays out the flat buffer for the vote: W shards of `shardWords` 64-bit
/// words (64 parameters each), so that each owner's bits are whole words. `paddedCount` (a
/// multiple of 64W) is at least `ShardLayout`'s.
public struct SignVoteLayout: Sendable, Equatable {
    /// W shards of whole 64-bit words of votes.
    public let shards: ShardLayout

    public init(count: Int, worldSize: Int) {
        shards = ShardLayout(count: count, worldSize: worldSize, unit: 64)
    }

    public var count: Int { shards.count }
    public var worldSize: Int { shards.worldSize }
    public var shardWords: Int { shards.shardCount / 64 }
    public var shardCount: Int { shards.shardCount }
    public var paddedCount: Int { shards.paddedCount }
    public var totalWords: Int { shardWords * worldSize }

    /// Bytes a rank sends per step for this layout (padding included).
    public func wireBytes(_ rule: VoteRule) -> Double {
        rule.wireBitsPerParameter(worldSize: worldSize) * Double(paddedCount) / 8
    }
}

/// The bits of one sign-vote step, and their journey: every rank's packed votes (`votes`,
/// filled by `SignVoteKernel.pack`) travel by MPI_Alltoall so that the owner of each shard
/// receives that shard's words from every rank; the owner counts them into the rule's result
/// planes (majority: `SignVoteKernel.vote`, sign and nonzero; average: `counts`, the count's
/// bits); MPI_Allgather gives every rank every shard's planes.
public final class SignVoteWire {
    public let layout: SignVoteLayout
    public let rule: VoteRule
    /// Bit planes of the result, each `layout.shardWords` words per shard.
    public let resultPlanes: Int
    private let comm: Communicator
    private let packed: AlignedBuffer<UInt64>      // totalWords: this rank's votes
    private let received: AlignedBuffer<UInt64>    // W * shardWords: every rank's votes on my shard
    private let voted: AlignedBuffer<UInt64>       // resultPlanes * shardWords: my shard's result
    private let gathered: AlignedBuffer<UInt64>    // W * resultPlanes * shardWords: every shard's result

    public init(layout: SignVoteLayout, rule: VoteRule, comm: Communicator) {
        precondition(layout.worldSize == comm.size)
        self.layout = layout
        self.rule = rule
        self.comm = comm
        resultPlanes = rule.resultPlanes(worldSize: comm.size)
        packed = AlignedBuffer(count: layout.totalWords)
        received = AlignedBuffer(count: layout.totalWords)
        voted = AlignedBuffer(count: resultPlanes * layout.shardWords)
        gathered = AlignedBuffer(count: resultPlanes * layout.totalWords)
    }

    /// Where the kernel packs this rank's votes: `layout.totalWords` words, element i at bit i.
    public var votes: UnsafeMutablePointer<UInt64> { packed.pointer }

    /// Bytes of bit buffers this rank holds.
    public var heldBytes: Int { Self.heldBytes(layout: layout, rule: rule) }
    /// Votes and received votes (`totalWords` each), this shard's result planes and every shard's.
    public static func heldBytes(layout: SignVoteLayout, rule: VoteRule) -> Int {
        let planes = rule.resultPlanes(worldSize: layout.worldSize)
        return ((2 + planes) * layout.totalWords + planes * layout.shardWords) * 8
    }

    /// Sends the votes to their owners, counts the votes on this rank's shard (on the pool).
    /// Collective.
    public func exchangeVotes(pool: ThreadPool) throws {
        let words = layout.shardWords, w = layout.worldSize
        try comm.alltoall(packed.pointer, into: received.pointer, blockWords: words)
        let planes = UnsafePointer(received.pointer), out = voted.pointer, rule = self.rule
        let chunk = 1024, chunks = (words + chunk - 1) / chunk
        pool.parallelFor(chunks) { c in
            let lo = c * chunk, n = min(chunk, words - lo)
            switch rule {
            case .majority:
                SignVoteKernel.vote(planes: planes + lo, stride: words, voters: w, words: n, sign: out + lo, nonzero: out + words + lo)
            case .average:
                SignVoteKernel.counts(planes: planes + lo, stride: words, voters: w, words: n, counters: out + lo, counterStride: words)
            }
        }
    }

    /// Gives every rank every shard's result planes. Collective.
    public func gatherResult() throws {
        try comm.allgather(voted.pointer, into: gathered.pointer, blockWords: resultPlanes * layout.shardWords)
    }

    /// Shard `s`'s result planes (after `gatherResult`), `layout.shardWords` words apart:
    /// majority sign then nonzero; average the count's bits, lowest first.
    public func result(shard s: Int) -> UnsafePointer<UInt64> {
        UnsafePointer(gathered.pointer + s * resultPlanes * layout.shardWords)
    }
}

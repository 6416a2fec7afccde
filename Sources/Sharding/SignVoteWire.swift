import Basics
import Collectives
import LionEngine

/// How sign-vote Lion lays out the flat buffer for the vote: W shards of `shardWords` 64-bit
/// words (64 parameters each), so that each owner's bits are whole words. `paddedCount` (a
/// multiple of 64W) is at least `ShardLayout`'s.
public struct SignVoteLayout: Sendable, Equatable {
    public let count: Int
    public let worldSize: Int
    public let shardWords: Int

    public init(count: Int, worldSize: Int) {
        precondition(count > 0 && worldSize > 0)
        self.count = count
        self.worldSize = worldSize
        shardWords = max(1, SignVoteKernel.words((count + worldSize - 1) / worldSize))
    }

    public var shardCount: Int { shardWords * 64 }
    public var paddedCount: Int { shardCount * worldSize }
    public var totalWords: Int { shardWords * worldSize }

    /// Bits per parameter a rank sends per step: of its 1-bit votes, the (W-1)/W that other
    /// ranks own (MPI_Alltoall), and of the 2-bit voted result (sign, nonzero) W-1 copies of its
    /// own 1/W (MPI_Allgather): 3(W-1)/W. The same convention (nccl-tests' bus bytes) gives an
    /// fp32 MPI_Allreduce 2(W-1)/W * 32 = 64(W-1)/W: 64 at large W, 1/21.3 of it for sign-vote.
    public static func wireBitsPerParameter(worldSize w: Int) -> Double {
        3 * Double(w - 1) / Double(w)
    }

    /// Bytes a rank sends per step for this layout (padding included).
    public var wireBytes: Double {
        Self.wireBitsPerParameter(worldSize: worldSize) * Double(paddedCount) / 8
    }
}

/// The bits of one sign-vote step, and their journey: every rank's packed votes (`votes`,
/// filled by `SignVoteKernel.pack`) travel by MPI_Alltoall so that the owner of each shard
/// receives that shard's words from every rank; the owner counts them (`SignVoteKernel.vote`)
/// into two planes, sign and nonzero; MPI_Allgather gives every rank every shard's planes.
public final class SignVoteWire {
    public let layout: SignVoteLayout
    private let comm: Communicator
    private let packed: AlignedBuffer<UInt64>      // totalWords: this rank's votes
    private let received: AlignedBuffer<UInt64>    // W * shardWords: every rank's votes on my shard
    private let voted: AlignedBuffer<UInt64>       // 2 * shardWords: sign, nonzero of my shard
    private let gathered: AlignedBuffer<UInt64>    // W * 2 * shardWords: every shard's result

    public init(layout: SignVoteLayout, comm: Communicator) {
        precondition(layout.worldSize == comm.size)
        self.layout = layout
        self.comm = comm
        packed = AlignedBuffer(count: layout.totalWords)
        received = AlignedBuffer(count: layout.totalWords)
        voted = AlignedBuffer(count: 2 * layout.shardWords)
        gathered = AlignedBuffer(count: 2 * layout.totalWords)
    }

    /// Where the kernel packs this rank's votes: `layout.totalWords` words, element i at bit i.
    public var votes: UnsafeMutablePointer<UInt64> { packed.pointer }

    /// Bytes of bit buffers this rank holds.
    public var heldBytes: Int { (packed.count + received.count + voted.count + gathered.count) * 8 }

    /// Sends the votes to their owners, counts the votes on this rank's shard (on the pool).
    /// Collective.
    public func exchangeVotes(pool: ThreadPool) throws {
        let words = layout.shardWords, w = layout.worldSize
        try comm.alltoall(packed.pointer, into: received.pointer, blockWords: words)
        let planes = UnsafePointer(received.pointer), sign = voted.pointer, nonzero = voted.pointer + words
        let chunk = 1024, chunks = (words + chunk - 1) / chunk
        pool.parallelFor(chunks) { c in
            let lo = c * chunk, n = min(chunk, words - lo)
            SignVoteKernel.vote(planes: planes + lo, stride: words, voters: w, words: n, sign: sign + lo, nonzero: nonzero + lo)
        }
    }

    /// Gives every rank every shard's voted planes. Collective.
    public func gatherResult() throws {
        try comm.allgather(voted.pointer, into: gathered.pointer, blockWords: 2 * layout.shardWords)
    }

    /// Shard `s`'s voted sign and nonzero planes (after `gatherResult`).
    public func result(shard s: Int) -> (sign: UnsafePointer<UInt64>, nonzero: UnsafePointer<UInt64>) {
        let base = UnsafePointer(gathered.pointer + s * 2 * layout.shardWords)
        return (base, base + layout.shardWords)
    }
}

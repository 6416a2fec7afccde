/// How the flat parameter vector of `count` elements is split over `worldSize` ranks
/// (ZeRO-1 style, as llm.c's `ShardInfo`): the vector is padded to `paddedCount`, a multiple
/// of worldSize*alignment, so every rank owns one equal, 64-byte aligned block.
public struct ShardLayout: Sendable, Equatable {
    /// Elements per alignment unit: 16 floats = 64 bytes, one cache line.
    public static let alignment = 16

    public let count: Int
    public let worldSize: Int
    public let shardCount: Int

    /// Shards of a whole number of `unit` elements (default `alignment`; sign-vote's vote
    /// shards use 64, one 64-bit word of votes).
    public init(count: Int, worldSize: Int, unit: Int = alignment) {
        precondition(count > 0 && worldSize > 0 && unit > 0)
        self.count = count
        self.worldSize = worldSize
        let perRank = (count + worldSize - 1) / worldSize
        self.shardCount = (perRank + unit - 1) / unit * unit
    }

    /// The padded length of the flat buffers: worldSize equal shards.
    public var paddedCount: Int { shardCount * worldSize }

    /// Padding elements appended after the real parameters (zero, never updated away from zero).
    public var padding: Int { paddedCount - count }

    /// [lo, hi) of rank `rank`'s shard in the padded flat buffer.
    public func range(of rank: Int) -> Range<Int> {
        (rank * shardCount)..<((rank + 1) * shardCount)
    }
}

import Collectives
import MemoryPlanning
import Training

/// One rank's memory: what the optimizer allocated, by kind, and the process's measured peak.
///
/// With W ranks and N parameters (fp32 state): parameters 4N, gradients 4N, Lion state 4N/W
/// (AdamW 8N/W; bf16 halves either), each rounded up to W equal 64-byte aligned shards.
public struct MemoryAccount: Sendable, Equatable {
    /// The rank these figures are for.
    public let rank: Int
    /// The flat parameter buffer (padded to W equal shards).
    public let parameterBytes: Int
    /// The flat gradient buffer (padded likewise).
    public let gradientBytes: Int
    /// This rank's optimizer state: its shard only.
    public let optimizerStateBytes: Int
    /// What the state would take on every rank without sharding.
    public let unshardedStateBytes: Int
    /// The process's peak resident set (VmHWM), 0 where unknown.
    public let peakRSSBytes: Int
}

extension DistributedOptimizer {
    /// This rank's memory account. Not collective.
    public var memory: MemoryAccount {
        let c = options.engineConfig
        return MemoryAccount(rank: world.rank, parameterBytes: layout.paddedCount * 4, gradientBytes: layout.paddedCount * 4,
                             optimizerStateBytes: core.stateBytes,
                             unshardedStateBytes: parameterCount * c.stateBuffers * c.stateDType.bytesPerElement,
                             peakRSSBytes: MemoryReport.peakRSSBytes())
    }

    /// Every rank's memory account, in rank order. Collective.
    public func memoryOfAllRanks() throws -> [MemoryAccount] {
        let mine = memory
        let rows = try world.sum((0..<world.size).flatMap { r -> [Double] in
            let v = [mine.parameterBytes, mine.gradientBytes, mine.optimizerStateBytes, mine.unshardedStateBytes, mine.peakRSSBytes]
            return (r == world.rank ? v : [0, 0, 0, 0, 0]).map(Double.init)
        })
        return (0..<world.size).map { r in
            let v = rows[(r * 5)..<(r * 5 + 5)].map { Int($0) }
            return MemoryAccount(rank: r, parameterBytes: v[0], gradientBytes: v[1], optimizerStateBytes: v[2],
                                 unshardedStateBytes: v[3], peakRSSBytes: v[4])
        }
    }
}

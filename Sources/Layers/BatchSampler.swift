import FashionData

/// This rank's samples for each step of a data-parallel run over a data set of `count`
/// samples: every epoch a fresh shuffle of 0..<count from (seed, epoch), the same on every
/// rank; global step s is batch s % stepsPerEpoch of epoch s / stepsPerEpoch (the last partial
/// batch dropped), and rank r takes the r-th of its `ranks` equal contiguous slices. The
/// global batch of a step is the same whatever the number of ranks.
///
/// ```swift
/// let sampler = try BatchSampler(count: 3000, globalBatch: 100, rank: world.rank, ranks: world.size, seed: 1)
/// let mine = sampler.indices(step: step)   // 50 indices at 2 ranks
/// ```
/// Cost: one shuffle of `count` indices per epoch (kept for the epoch's steps). Not thread-safe.
public final class BatchSampler {
    public let count: Int, globalBatch: Int, rank: Int, ranks: Int, seed: UInt64
    private let sampler: DistributedSampler
    private var cached: (epoch: Int, permutation: [Int32])?

    /// Throws a `LayerError` unless 1 <= globalBatch <= count, globalBatch is a multiple of
    /// `ranks`, and 0 <= rank < ranks.
    public init(count: Int, globalBatch: Int, rank: Int, ranks: Int, seed: UInt64) throws {
        guard ranks >= 1, rank >= 0, rank < ranks else { throw LayerError("rank \(rank) not in 0..<\(ranks)") }
        guard count >= 1, count <= Int(Int32.max) else { throw LayerError("the data set must have 1...\(Int32.max) samples, got \(count)") }
        guard globalBatch >= 1, globalBatch <= count, globalBatch % ranks == 0 else {
            throw LayerError("globalBatch \(globalBatch) must be in 1...\(count) (the data set) and a multiple of the \(ranks) ranks")
        }
        (self.count, self.globalBatch, self.rank, self.ranks, self.seed) = (count, globalBatch, rank, ranks, seed)
        sampler = DistributedSampler(datasetSize: count, globalBatch: globalBatch, rank: rank, worldSize: ranks, seed: seed)
    }

    /// Full global batches per epoch.
    public var stepsPerEpoch: Int { sampler.stepsPerEpoch }
    /// Samples per rank per step.
    public var localBatch: Int { sampler.localBatch }

    /// The epoch (0-based) that global step `step` falls in.
    public func epoch(of step: Int) -> Int { step / stepsPerEpoch }

    /// This rank's `localBatch` sample indices for global step `step` (0-based).
    public func indices(step: Int) -> [Int] {
        precondition(step >= 0, "step must be >= 0, got \(step)")
        let epoch = epoch(of: step)
        if cached?.epoch != epoch { cached = (epoch, sampler.permutation(epoch: epoch)) }
        return sampler.localIndices(cached!.permutation, step: step % stepsPerEpoch).map { Int($0) }
    }
}

/// Which part of an evaluation set a rank evaluates: contiguous shares that differ by at most
/// one sample and together cover it once, so per-rank sums add up to the whole set's.
public enum EvaluationSplit {
    /// Rank `rank`'s share of `count` samples over `ranks` ranks.
    public static func share(of count: Int, rank: Int, ranks: Int) -> Range<Int> {
        precondition(ranks >= 1 && rank >= 0 && rank < ranks && count >= 0, "rank \(rank) of \(ranks), \(count) samples")
        return (count * rank / ranks)..<(count * (rank + 1) / ranks)
    }
}

import DeterministicRandom

/// Splits each epoch's shuffled global batches into equal per-rank slices.
///
/// The shuffle is a pure function of (seed, epoch), so every rank computes the same
/// permutation without communicating. Global batch `s` is `permutation[s*B ..< (s+1)*B]`;
/// rank `r` takes the `r`-th of its `worldSize` equal slices. The last partial batch is dropped.
public struct DistributedSampler: Sendable {
    public let datasetSize: Int
    public let globalBatch: Int
    public let rank: Int
    public let worldSize: Int
    public let seed: UInt64

    public init(datasetSize: Int, globalBatch: Int, rank: Int, worldSize: Int, seed: UInt64) {
        precondition(datasetSize >= 0 && datasetSize <= Int(Int32.max), "datasetSize out of range")
        precondition(worldSize >= 1 && rank >= 0 && rank < worldSize, "rank \(rank) not in 0..<\(worldSize)")
        precondition(globalBatch >= 1 && globalBatch % worldSize == 0,
                     "globalBatch \(globalBatch) must be a positive multiple of worldSize \(worldSize)")
        self.datasetSize = datasetSize
        self.globalBatch = globalBatch
        self.rank = rank
        self.worldSize = worldSize
        self.seed = seed
    }

    /// Full global batches per epoch.
    public var stepsPerEpoch: Int { datasetSize / globalBatch }
    /// Samples per rank per step.
    public var localBatch: Int { globalBatch / worldSize }

    /// A permutation of 0..<datasetSize (Fisher-Yates over SplitMix64), identical on every rank.
    public func permutation(epoch: Int) -> [Int32] {
        var rng = SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: epoch) &* 0xD1B5_4A32_D192_ED03))
        var p = (0..<Int32(datasetSize)).map { $0 }
        var i = datasetSize - 1
        while i > 0 {
            let j = rng.next(below: i + 1)
            p.swapAt(i, j)
            i -= 1
        }
        return p
    }

    /// This rank's slice of global batch `step` of `permutation`.
    public func localIndices(_ permutation: [Int32], step: Int) -> ArraySlice<Int32> {
        precondition(step >= 0 && step < stepsPerEpoch, "step \(step) not in 0..<\(stepsPerEpoch)")
        precondition(permutation.count == datasetSize)
        let start = step * globalBatch + rank * localBatch
        return permutation[start..<start + localBatch]
    }
}

import Basics
/// Fused pass run after the gradient combine: `g[i] *= scale`, and returns the sum of squares
/// of the scaled values, accumulated in Double.
///
/// Each fixed 32K-element chunk is summed in 8 Double lanes and reduced in a fixed order; the
/// chunk sums are added in chunk order. Chunk boundaries do not depend on the pool, so the result
/// is bitwise the same for any thread count. Non-finite input gives a non-finite result
/// (Inf -> +Inf, NaN -> NaN): that is how the trainer detects bad gradients and skips the step.
/// Allocates only a stack buffer of one Double per chunk (heap beyond 1 MB of it, i.e. > 4G elements).
public func scaleAndSumSquares(_ g: UnsafeMutablePointer<Float>, count: Int, scale: Float, pool: ThreadPool) -> Double {
    let chunks = Chunking.chunkCount(count)
    if chunks == 0 { return 0 }
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks) { partial in
        let sums = partial.baseAddress!
        Chunking.forEachChunk(count, pool: pool) { lo, n in
            sums[lo / Chunking.chunkElements] = scaleAndSumSquaresChunk(g + lo, count: n, scale: scale)
        }
        var total = 0.0
        for c in 0..<chunks { total += sums[c] }
        return total
    }
}

/// One chunk of `scaleAndSumSquares`, single-threaded.
/// The one-source case of `sumScaleAndSumSquaresChunk`, in place.
@inlinable
public func scaleAndSumSquaresChunk(_ g: UnsafeMutablePointer<Float>, count: Int, scale: Float) -> Double {
    withUnsafePointer(to: UnsafePointer(g)) { source in
        sumScaleAndSumSquaresChunk(UnsafeBufferPointer(start: source, count: 1), offset: 0,
                                   into: g, count: count, scale: scale)
    }
}

/// Clip factor for global-norm clipping: `min(1, maxNorm / (norm + 1e-6))`; `maxNorm <= 0`
/// turns clipping off (returns 1). A non-finite norm returns 1; the caller skips such steps.
public func clipScale(globalNorm: Double, maxNorm: Float) -> Float {
    guard maxNorm > 0, globalNorm.isFinite else { return 1 }
    return Float(min(1, Double(maxNorm) / (globalNorm + 1e-6)))
}

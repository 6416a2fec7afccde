import Basics
/// The shared-memory reduce-scatter's one pass over memory: `dst[i] = (s0[i] + s1[i] + ...) * scale`
/// for the sources in the order given (left to right), returning the sum of squares of the
/// stored values, accumulated in Double exactly as `scaleAndSumSquares` does (fixed 32K chunks,
/// 8 Double lanes, chunk sums in chunk order): for the same sums, the same bits and the same norm.
///
/// `dst` may be one of the sources (same address): each vector is read from every source before
/// it is written. With two sources the sum is bitwise what MPI_Allreduce gives (a + b = b + a).
public func sumScaleAndSumSquares(_ sources: [UnsafePointer<Float>], into dst: UnsafeMutablePointer<Float>,
                                  count: Int, scale: Float, pool: ThreadPool) -> Double {
    precondition(!sources.isEmpty, "at least one source")
    let chunks = Chunking.chunkCount(count)
    if chunks == 0 { return 0 }
    return sources.withUnsafeBufferPointer { src in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks) { partial in
            let sums = partial.baseAddress!
            Chunking.forEachChunk(count, pool: pool) { lo, n in
                sums[lo / Chunking.chunkElements] = sumScaleAndSumSquaresChunk(src, offset: lo, into: dst + lo,
                                                                               count: n, scale: scale)
            }
            var total = 0.0
            for c in 0..<chunks { total += sums[c] }
            return total
        }
    }
}

/// One chunk of `sumScaleAndSumSquares`, single-threaded: elements [offset, offset+count) of
/// every source into dst[0..<count].
@inlinable
public func sumScaleAndSumSquaresChunk(_ sources: UnsafeBufferPointer<UnsafePointer<Float>>, offset: Int,
                                       into dst: UnsafeMutablePointer<Float>, count: Int, scale: Float) -> Double {
    var lo = SIMD4<Double>(repeating: 0), hi = SIMD4<Double>(repeating: 0)
    let first = sources[0] + offset
    var i = 0
    while i + 8 <= count {
        var s = load8(first, i)
        for p in 1..<sources.count { s += load8(sources[p] + offset, i) }
        let v = s * scale
        store8(v, dst, i)
        let a = SIMD4<Double>(v.lowHalf), b = SIMD4<Double>(v.highHalf)
        lo += a * a
        hi += b * b
        i += 8
    }
    var tail = 0.0
    while i < count {
        var s = first[i]
        for p in 1..<sources.count { s += sources[p][offset + i] }
        let v = s * scale
        dst[i] = v
        tail += Double(v) * Double(v)
        i += 1
    }
    let s = lo + hi
    return ((s[0] + s[1]) + (s[2] + s[3])) + tail
}

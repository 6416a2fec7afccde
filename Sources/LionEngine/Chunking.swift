import Basics
/// How the engine splits a range over a pool: fixed 32K-element chunks (16-aligned, 128 KB per
/// fp32 stream), handed out by index. Fixed chunk boundaries make per-chunk results (such as
/// partial sums) independent of the thread count; 32K keeps a 2-thread pool busy down to
/// ~64K elements and costs one atomic per 128 KB.
public enum Chunking {
    public static let chunkElements = 32 * 1024

    public static func chunkCount(_ count: Int) -> Int {
        (count + chunkElements - 1) / chunkElements
    }

    /// Runs `body(lo, n)` over [0, count) in chunks on the pool.
    @inlinable
    public static func forEachChunk(_ count: Int, pool: ThreadPool, _ body: (_ lo: Int, _ n: Int) -> Void) {
        let chunks = chunkCount(count)
        pool.parallelFor(chunks) { c in
            let lo = c * chunkElements
            body(lo, min(chunkElements, count - lo))
        }
    }
}

import Basics
/// Copies `count` floats in 32K-element chunks over the pool (the shared-memory gather).
public func parallelCopy(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool) {
    Chunking.forEachChunk(count, pool: pool) { lo, n in
        (dst + lo).update(from: src + lo, count: n)
    }
}

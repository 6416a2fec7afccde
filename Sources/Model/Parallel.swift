import Basics
import COpenBLAS

/// The threads a rank gives its model compute. Every parallel loop of the models goes through
/// `parallelRanges`, and every matrix product through `sgemm` (SGEMM.swift), which splits the
/// product's rows over these threads with OpenBLAS single-threaded in each: one parallel
/// strategy per layer, no nested thread pools (OpenBLAS's own threads inside our loops ran a
/// rank of 2 threads at 0.4x two ranks of one). Results are deterministic for a fixed count.
public enum ComputeThreads {
    public private(set) static var count = 1
    /// The workers the parallel loops run on (the calling thread is one of them).
    nonisolated(unsafe) static var pool = ThreadPool(threads: 1)

    /// A pool of `threads` threads for the rank's other parallel work between passes (the
    /// optimizer's update, the gradient sums): the models' own when the counts agree, so one
    /// set of workers spins between loops, not two on the same cores.
    public static func pool(threads: Int) -> ThreadPool {
        threads == count ? pool : ThreadPool(threads: threads)
    }

    public static func set(_ n: Int) {
        precondition(n >= 1, "compute threads must be >= 1")
        if n != count { pool = ThreadPool(threads: n) }
        count = n
        _ = OpenBLASCore.replaced
        openblas_set_num_threads(1)
    }
}

/// True while a `parallelRanges` runs: loops it starts run on the calling worker, serially.
/// Written only by the thread that starts the outermost loop, before and after it.
nonisolated(unsafe) private var insideParallel = false

/// The threads a parallel loop started here would run on: 1 inside another one.
var parallelThreads: Int { insideParallel ? 1 : ComputeThreads.count }

/// Runs `body` over 0..<count split into one contiguous range per thread, on
/// `ComputeThreads.count` threads. Range boundaries are multiples of `grain`. The items must be
/// independent (each writes only its own outputs), so results do not depend on the split.
/// Called from inside another `parallelRanges` (a product inside an attention item), it runs
/// serially on that thread. The threads are a `ThreadPool` whose workers spin ~100 us after a
/// loop before they sleep, so the next of the GPT's many short loops finds them awake: on the
/// Intel Xeon (model 207), 2 cores, quiet, the baby GPT's 2-thread step took a median 24.9 ms
/// against 30.4 ms with `DispatchQueue.concurrentPerform` (whose parked workers joined as late
/// as a 100 us body takes; `lion-dist bench gpt --threads 2 --steps 150`, 5 interleaved pairs).
/// The GPT still runs several row-local kernels per loop where it can (each thread its own rows).
/// Under load the trade turns: on the 2-core AMD EPYC beside a niced 4-rank job this pool made
/// the same step 1.03-1.37x slower than concurrentPerform (7 interleaved pairs), as a preempted
/// worker that holds a chunk holds up the join.
func parallelRanges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    parallelChunks(count, grain: grain) { _, r in body(r) }
}

/// The same, also passing the chunk's index (0..<threads): for per-thread state, such as a
/// oneDNN stream and its cached primitives.
func parallelChunks(_ count: Int, grain: Int = 1, _ body: (Int, Range<Int>) -> Void) {
    let threads = insideParallel ? 1 : min(ComputeThreads.count, (count + grain - 1) / grain)
    if threads <= 1 {
        if count > 0 { body(0, 0..<count) }
        return
    }
    let units = (count + grain - 1) / grain
    insideParallel = true
    defer { insideParallel = false }
    ComputeThreads.pool.parallelFor(threads) { i in
        let lo = min(count, units * i / threads * grain)
        let hi = min(count, units * (i + 1) / threads * grain)
        if lo < hi { body(i, lo..<hi) }
    }
}

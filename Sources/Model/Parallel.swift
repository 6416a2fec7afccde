import COpenBLAS
import Dispatch

/// The threads a rank gives its model compute. Every parallel loop of the models goes through
/// `parallelRanges`, and every matrix product through `sgemm` (SGEMM.swift), which splits the
/// product's rows over these threads with OpenBLAS single-threaded in each: one parallel
/// strategy per layer, no nested thread pools (OpenBLAS's own threads inside our loops ran a
/// rank of 2 threads at 0.4x two ranks of one). Results are deterministic for a fixed count.
public enum ComputeThreads {
    public private(set) static var count = 1

    public static func set(_ n: Int) {
        precondition(n >= 1, "compute threads must be >= 1")
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
/// serially on that thread. An empty fork-join costs ~0.3 us here (DESIGN.md, Threads), but a
/// parked Dispatch worker can take as long as the body to join: two 100 us bodies took 200 us
/// (median of 2000) on the 2-core AMD EPYC beside a niced 4-rank job, so the GPT runs several
/// row-local kernels per fork-join (each thread its own rows, the kernels serial inside). A pool
/// of spinning workers (LionEngine's ThreadPool) in place of concurrentPerform made the baby GPT's
/// 2-thread step 1.03-1.37x slower there (7 interleaved pairs): a preempted spinning worker
/// holds up the join.
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
    DispatchQueue.concurrentPerform(iterations: threads) { i in
        let lo = min(count, units * i / threads * grain)
        let hi = min(count, units * (i + 1) / threads * grain)
        if lo < hi { body(i, lo..<hi) }
    }
}

import Dispatch

/// Runs `body` over 0..<count split into one contiguous range per thread, on
/// `BLASThreads.current` threads: the trainer sets one thread budget for OpenBLAS and for
/// these loops. Range boundaries are multiples of `grain`. The items must be independent
/// (each writes only its own outputs), so results do not depend on the split or the thread count.
/// Fork-join costs ~0.3 us here (DESIGN.md, Threads).
func parallelRanges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    let threads = min(BLASThreads.current, (count + grain - 1) / grain)
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    let units = (count + grain - 1) / grain
    DispatchQueue.concurrentPerform(iterations: threads) { i in
        let lo = min(count, units * i / threads * grain)
        let hi = min(count, units * (i + 1) / threads * grain)
        if lo < hi { body(lo..<hi) }
    }
}

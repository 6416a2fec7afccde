#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A fixed set of persistent worker threads for fork-join loops; the calling thread is one
/// of the `threads` participants, so `ThreadPool(threads: 1)` starts no thread at all.
///
/// Workers spin on a generation counter for about 100 us after each job, then sleep on a
/// condition variable. Items are handed out one at a time through an atomic index, so a late
/// or descheduled worker never holds up the loop: `parallelFor` returns as soon as every item
/// is done and no worker is inside the body.
///
/// Fork-join cost (empty body, 2 participants, median of 20k; `OptimizerBenchmark.forkJoinMicroseconds`,
/// printed as the last line of `lion-dist bench optimizer`) depends on the machine and its load:
/// on the 2-core dev VM, shared with other jobs, three runs gave this pool 0.06-0.08 us and
/// `DispatchQueue.concurrentPerform(iterations: 2)` 0.15-0.27 us; docs/engine-benchmark.md's quiet-machine
/// run shows 0.45 and 0.18 us. Either is negligible next to a 1M-element update (~0.3 ms); the
/// pool is used because it runs exactly `threads` participants (concurrentPerform sizes itself
/// to the machine, not to this rank's share of cores) and needs no Dispatch in the hot path.
/// Sleeping workers cost one condition-variable wake (tens of us) on the first job after an
/// idle period of more than ~100 us.
public final class ThreadPool: @unchecked Sendable {
    public let threads: Int
    private let state: PoolState
    private var workers: [pthread_t] = []

    public init(threads: Int) {
        precondition(threads >= 1, "ThreadPool needs at least one thread")
        self.threads = threads
        self.state = PoolState()
        for _ in 1..<threads {
            let context = Unmanaged.passRetained(state).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                let state = Unmanaged<PoolState>.fromOpaque(raw!).takeRetainedValue()
                state.workerLoop()
                return nil
            }, context)
            precondition(rc == 0, "pthread_create failed: \(rc)")
            workers.append(tid)
        }
    }

    deinit {
        state.shutDown()
        for tid in workers { pthread_join(tid, nil) }
    }

    /// Workers asleep on the condition variable now (for tests of the sleep path).
    var sleepingWorkers: Int { state.sleepers.load(ordering: .sequentiallyConsistent) }

    /// Runs `body(i)` for every i in 0..<count over the pool (the caller participates) and
    /// returns when all are done. Calls must not overlap or nest.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if threads == 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            state.run(count: count, body: escapable)
        }
    }
}

/// Shared by the pool and its workers. Plain fields are written by the caller before the
/// releasing increment of `generation` and read by workers after its acquiring load.
private final class PoolState: @unchecked Sendable {
    let generation = Atomic<UInt64>(0)
    /// Generation of the job workers may still join, 0 when closed.
    let openGeneration = Atomic<UInt64>(0)
    /// Workers currently inside a job.
    let active = Atomic<Int>(0)
    let nextItem = Atomic<Int>(0)
    let doneItems = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    var count = 0
    var body: ((Int) -> Void)?
    var stopping = false
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    func run(count: Int, body: @escaping (Int) -> Void) {
        self.count = count
        self.body = body
        nextItem.store(0, ordering: .relaxed)
        doneItems.store(0, ordering: .relaxed)
        let gen = generation.load(ordering: .relaxed) &+ 1
        openGeneration.store(gen, ordering: .sequentiallyConsistent)
        generation.store(gen, ordering: .sequentiallyConsistent)
        wakeSleepers()
        work(body)
        // Wait for items other participants are still running, then close the job and wait
        // until no worker is inside it (a worker that joins after the close backs out untouched).
        while doneItems.load(ordering: .acquiring) < count {}
        openGeneration.store(0, ordering: .sequentiallyConsistent)
        while active.load(ordering: .sequentiallyConsistent) != 0 {}
        self.body = nil
    }

    func shutDown() {
        stopping = true
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    private func wakeSleepers() {
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
        }
    }

    @inline(__always)
    private func work(_ body: (Int) -> Void) {
        while true {
            let i = nextItem.add(1, ordering: .relaxed).oldValue
            if i >= count { return }
            body(i)
            doneItems.add(1, ordering: .releasing)
        }
    }

    func workerLoop() {
        var seen: UInt64 = 0
        while true {
            seen = waitForNewGeneration(after: seen)
            if stopping { return }
            active.add(1, ordering: .sequentiallyConsistent)
            if openGeneration.load(ordering: .sequentiallyConsistent) == seen, let body {
                work(body)
            }
            active.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    private func waitForNewGeneration(after seen: UInt64) -> UInt64 {
        let spinNanoseconds: UInt64 = 100_000
        var start: UInt64 = 0
        var spins = 0
        while true {
            let gen = generation.load(ordering: .acquiring)
            if gen != seen { return gen }
            spins += 1
            if spins & 255 == 0 {
                let now = monotonicNanoseconds()
                if start == 0 { start = now } else if now - start > spinNanoseconds {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        pthread_cond_wait(cond, mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                    start = 0
                }
            }
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

import Basics
import Collectives
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where a rank's loop stands, for the stall watchdog's line (in the order of one step).
package enum LoopPhase: UInt64 {
    case compute = 1, exchange, save = 4, evaluation

    package var text: String {
        switch self {
        case .compute: return "forward/backward"
        case .exchange: return "the gradient exchange (combine, update, gather)"
        case .save: return "a checkpoint save"
        case .evaluation: return "the evaluation"
        }
    }
}

/// `--stall-timeout SECONDS`: ends a job in which some rank makes no progress, instead of
/// letting the others wait in a collective until the cluster's time limit (a stopped or hung
/// rank, a dead or crawling link).
///
/// The main thread marks each phase of each step (`enter`: a clock read and two stores). A
/// watchdog thread per rank wakes every 100 ms, publishes a heartbeat, and, once the current
/// phase has lasted longer than the timeout (or 20x the longest phase seen so far, whichever
/// is larger), names what it sees: every rank of a node publishes its step and phase and its
/// heartbeat in a node-shared window (plain loads and stores, no MPI call), so the rank that
/// reports names the node peers that did not arrive (no heartbeat: stopped or hung; or still in
/// an earlier phase). It writes one line and calls MPI_Abort, which ends every rank. Only the
/// main thread calls MPI otherwise (MPI_THREAD_FUNNELED); MPI_Abort from the watchdog thread is
/// the one exception, made when the main thread is stuck in a collective. One rank per node
/// reports: the lowest live one among those furthest along. Ranks on other nodes are not seen;
/// the line says so when every rank of its node is waiting.
package final class StallWatchdog {
    package let timeout: Double
    private let comm: Communicator
    private let board: SharedWindow
    /// World ranks of this node's ranks, by node rank.
    private let peers: [Int]
    private let nodeRank: Int
    private let host = Communicator.processorName()
    /// "node2 (ranks 2, 3)" for every other host, for the line when this whole node waits.
    private let otherHosts: [String]
    private let lastProgress = Atomic<UInt64>(0)
    private let longest = Atomic<UInt64>(0)
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    package static let tick: UInt32 = 100_000
    /// A peer whose heartbeat has not moved for this long counts as stopped.
    package static let silence = 2.0

    /// Collective over `comm` (the node's shared window).
    package init(timeout: Double, topology: Topology) throws {
        self.timeout = timeout
        let comm = topology.world, node = topology.node
        self.comm = comm
        nodeRank = node.rank
        peers = try node.allgather([Int64(comm.rank)]).map { Int($0[0]) }
        let hosts = try comm.allgather(host, capacity: 256)
        var order: [String] = [], ranks: [String: [Int]] = [:]
        for (r, h) in hosts.enumerated() where h != host {
            if ranks[h] == nil { order.append(h) }
            ranks[h, default: []].append(r)
        }
        otherHosts = order.map { "\($0) (rank\(ranks[$0]!.count > 1 ? "s" : "") \(ranks[$0]!.map(String.init).joined(separator: ", ")))" }
        board = try SharedWindow(node: node, bytes: 0)
        lastProgress.store(Self.now(), ordering: .relaxed)
        Thread.detachNewThread { [self] in watch() }
    }

    /// The main thread starts `phase` of (1-based) step `step`.
    package func enter(step: Int, _ phase: LoopPhase) {
        let t = Self.now(), last = lastProgress.load(ordering: .relaxed)
        if t - last > longest.load(ordering: .relaxed) { longest.store(t - last, ordering: .relaxed) }
        lastProgress.store(t, ordering: .relaxed)
        board.publish(UInt64(step) << 8 | phase.rawValue, slot: 1)
    }

    /// Ends the thread (the run is over); returns once it has.
    package func stop() {
        running.store(false, ordering: .relaxed)
        finished.wait()
    }

    package static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds from `start` to `end` (monotonic nanoseconds), 0 when `start` is later: the main
    /// thread may record progress after this thread read the clock.
    package static func seconds(from start: UInt64, to end: UInt64) -> Double {
        end > start ? Double(end - start) / 1e9 : 0
    }

    private func watch() {
        var beat: UInt64 = 0
        var seen = [(beat: UInt64, at: UInt64)](repeating: (0, Self.now()), count: peers.count)
        while running.load(ordering: .relaxed) {
            usleep(Self.tick)
            beat += 1
            board.publish(beat, slot: 2)
            let t = Self.now()
            for p in peers.indices {
                let b = board.published(by: p, slot: 2)
                if b != seen[p].beat { seen[p] = (b, t) }
            }
            let idle = Self.seconds(from: lastProgress.load(ordering: .relaxed), to: t)
            let limit = max(timeout, 20 * Double(longest.load(ordering: .relaxed)) / 1e9)
            guard idle > limit else { continue }
            let live = peers.indices.map { $0 == nodeRank || Double(t - seen[$0].at) / 1e9 < Self.silence }
            let position = peers.indices.map { board.published(by: $0, slot: 1) }
            let front = peers.indices.filter { live[$0] }.map { position[$0] }.max() ?? 0
            // One reporter per node: the lowest live rank among those furthest along.
            guard peers.indices.first(where: { live[$0] && position[$0] == front }) == nodeRank else { continue }
            fire(idle: idle, limit: limit, position: position, live: live, silentFor: peers.indices.map { Double(t - seen[$0].at) / 1e9 })
        }
        finished.signal()
    }

    private func fire(idle: Double, limit: Double, position: [UInt64], live: [Bool], silentFor: [Double]) -> Never {
        func describe(_ p: UInt64) -> String {
            "step \(p >> 8), \(LoopPhase(rawValue: p & 0xff)?.text ?? "start-up")"
        }
        let mine = position[nodeRank]
        let behind = peers.indices.filter { !live[$0] || position[$0] < mine }.map { p in
            live[p] ? "rank \(peers[p]) on \(host) (still in \(describe(position[p])))"
                : String(format: "rank %d on %@ (no sign of life for %.0f s: stopped or hung; last in %@)",
                         peers[p], host, silentFor[p], describe(position[p]))
        }
        let shown = otherHosts.prefix(8).joined(separator: ", ") + (otherHosts.count > 8 ? " and \(otherHosts.count - 8) more hosts" : "")
        let who = behind.isEmpty
            ? "every rank on \(host) is waiting: the rank(s) that did not arrive are on \(otherHosts.isEmpty ? "this host" : "another host: " + shown) (stopped, hung, or the link to it is down)"
            : "not arrived: " + behind.joined(separator: ", ")
        let line = String(format: "error: stall: rank %d on %@ made no progress for %.0f s at %@ (limit %.0f s: --stall-timeout %g or 20x the longest phase so far); %@; ending the job (MPI_Abort from the stall watchdog)\n",
                          comm.rank, host, idle, describe(mine), limit, timeout, who)
        fputs(line, stderr)
        comm.abort(code: 1)
    }
}

import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// An MPI-3 shared-memory window over the ranks of one node (`Communicator.splitByNode()`):
/// every rank allocates its own segment (MPI_Win_allocate_shared, non-contiguous so each
/// segment starts on its own pages) and can load and store any peer's segment directly.
///
/// The window is locked once for its whole life (MPI_Win_lock_all with MPI_MODE_NOCHECK);
/// ordering between ranks comes from `sync()` (MPI_Win_sync, node barrier, MPI_Win_sync: every
/// store before it on any rank is visible to every load after it) or from the release/acquire
/// counters of `publish(_:)` / `published(by:)`. Segments are zeroed at creation.
public final class SharedWindow {
    public let node: Communicator
    /// Bytes of this rank's segment (after the 64-byte control block).
    public let bytes: Int
    private var window: MPI_Win?
    private let segments: [UnsafeMutableRawPointer]
    /// Bytes reserved at the start of every segment for the progress counter.
    static let controlBytes = 64

    /// Collective over `node`. `bytes` may differ between ranks (0 is allowed).
    public init(node: Communicator, bytes: Int) throws {
        self.node = node
        self.bytes = bytes
        var info: MPI_Info? = nil
        try check(MPI_Info_create(&info), "MPI_Info_create")
        defer { MPI_Info_free(&info) }
        try check(MPI_Info_set(info, "alloc_shared_noncontig", "true"), "MPI_Info_set")
        var base: UnsafeMutableRawPointer? = nil
        var win: MPI_Win? = nil
        let total = Self.controlBytes + (bytes + 63) / 64 * 64
        // OpenMPI leaves node peers waiting inside MPI_Win_allocate_shared when node rank 0
        // cannot create the backing file, so a node that cannot hold the window says so first.
        let nodeBytes = Int(try node.allreduceSum(Double(total)))
        let capacity = Self.nodeCapacity()
        if nodeBytes > capacity.bytes {
            throw SharedWindowAllocationError(bytesPerRank: total, ranks: node.size, detail: capacity.text)
        }
        let code = MPI_Win_allocate_shared(MPI_Aint(total), 1, info, node.handle, &base, &win)
        // Every rank of the node learns whether all got their segment, so all throw together.
        let allocated = try node.allreduceMin(code == CMPI_SUCCESS() ? 1 : 0)
        guard allocated == 1 else {
            if code == CMPI_SUCCESS() { MPI_Win_free(&win) }
            throw SharedWindowAllocationError(bytesPerRank: total, ranks: node.size,
                                              detail: code == CMPI_SUCCESS() ? "it failed on a node peer" : MPIError(call: "", code: code).text)
        }
        window = win
        var segments: [UnsafeMutableRawPointer] = []
        for peer in 0..<node.size {
            var size: MPI_Aint = 0
            var unit: Int32 = 0
            var peerBase: UnsafeMutableRawPointer? = nil
            try check(MPI_Win_shared_query(win, Int32(peer), &size, &unit, &peerBase), "MPI_Win_shared_query")
            guard let peerBase else { throw MPIShortfall(call: "MPI_Win_shared_query", problem: "returned no base address for rank \(peer)") }
            segments.append(peerBase)
        }
        self.segments = segments
        try check(MPI_Win_lock_all(CMPI_MODE_NOCHECK(), win), "MPI_Win_lock_all")
        segments[node.rank].initializeMemory(as: UInt8.self, repeating: 0, count: total)
        try sync()
    }

    /// What this node can back with shared memory: the free space of /dev/shm (where OpenMPI
    /// puts the windows' backing files), at most the physical memory.
    static func nodeCapacity() -> (bytes: Int, text: String) {
        let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        var fs = statvfs()
        guard statvfs("/dev/shm", &fs) == 0 else { return (physical, "\(gib(physical)) of memory") }
        let free = Int(fs.f_bavail) * Int(fs.f_frsize)
        return (min(physical, free), "\(gib(physical)) of memory, \(gib(free)) free in /dev/shm")
    }

    deinit {
        guard MPIRuntime.isActive, window != nil else { return }
        MPI_Win_unlock_all(window)
        MPI_Win_free(&window)
    }

    /// The data area (after the control block) of node rank `peer`'s segment.
    public func base(of peer: Int) -> UnsafeMutableRawPointer {
        segments[peer] + Self.controlBytes
    }

    /// Floats at byte `offset` of `peer`'s data area.
    public func floats(of peer: Int, at offset: Int = 0) -> UnsafeMutablePointer<Float> {
        (base(of: peer) + offset).assumingMemoryBound(to: Float.self)
    }

    /// Collective over the node: every store before it, on any rank, is visible after it.
    public func sync() throws {
        try check(MPI_Win_sync(window), "MPI_Win_sync")
        try node.barrier()
        try check(MPI_Win_sync(window), "MPI_Win_sync")
    }

    /// Publishes this rank's progress counter `slot` (0..<8 words of the control block;
    /// release: stores before it are visible to a peer that reads the new value with
    /// `published(by:slot:)`). Not collective, and no MPI call: any thread may use it.
    public func publish(_ value: UInt64, slot: Int = 0) {
        CMPI_store_release_u64(counter(node.rank, slot), value)
    }

    /// `peer`'s last published counter `slot` (acquire).
    public func published(by peer: Int, slot: Int = 0) -> UInt64 {
        CMPI_load_acquire_u64(counter(peer, slot))
    }

    private func counter(_ peer: Int, _ slot: Int) -> UnsafeMutablePointer<UInt64> {
        precondition(slot >= 0 && slot < Self.controlBytes / 8, "control slot \(slot)")
        return segments[peer].assumingMemoryBound(to: UInt64.self) + slot
    }
}

/// MPI_Win_allocate_shared could not give every rank of a node its segment: almost always a
/// node without that much memory. `hint` (set by the caller who knows the flags) says what to change.
public struct SharedWindowAllocationError: Error, CustomStringConvertible {
    public let bytesPerRank: Int
    public let ranks: Int
    public let detail: String
    public var hint = "ask for less memory"

    public var description: String {
        "MPI_Win_allocate_shared cannot allocate \(bytesPerRank) bytes (\(gib(bytesPerRank))) of node-shared memory per rank, "
            + "\(gib(bytesPerRank * ranks)) for the \(ranks) rank(s) of this node (\(detail)); \(hint)"
    }
}

/// Bytes as GiB with one decimal ("12.5 GiB").
func gib(_ b: Int) -> String { "\(b / 1_073_741_824).\(b % 1_073_741_824 * 10 / 1_073_741_824) GiB" }

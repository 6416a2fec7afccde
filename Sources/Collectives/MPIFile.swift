import CMPI

/// A typed face of MPI-IO (`MPI_File`): one shared file that every rank of a communicator
/// opens together, each rank writing or reading at its own byte offsets. Raw pointers stop
/// here; callers pass float buffers or byte arrays. MPI files return errors by default
/// (MPI_ERRORS_RETURN), and each failure becomes an `MPIError` (a short read or write: an
/// `MPIShortfall`) naming the call and the path.
public final class MPIFile {
    public enum Mode {
        /// Create (or open) for writing only.
        case createWriteOnly
        case readOnly
    }

    public let path: String
    private var handle: MPI_File?

    /// MPI_File_open. Collective over `comm`: every rank opens the same path.
    public init(comm: Communicator, path: String, mode: Mode) throws {
        self.path = path
        let amode: Int32
        switch mode {
        case .createWriteOnly: amode = CMPI_MODE_CREATE() | CMPI_MODE_WRONLY()
        case .readOnly: amode = CMPI_MODE_RDONLY()
        }
        var h: MPI_File? = nil
        try check(MPI_File_open(comm.handle, path, amode, CMPI_INFO_NULL(), &h), "MPI_File_open(\(path))")
        handle = h
    }

    deinit {
        if handle != nil && MPIRuntime.isActive { MPI_File_close(&handle) }
    }

    /// MPI_File_set_size: truncates or extends. Collective.
    public func setSize(_ bytes: Int) throws {
        try check(MPI_File_set_size(handle, MPI_Offset(bytes)), "MPI_File_set_size(\(path), \(bytes))")
    }

    /// MPI_File_get_size.
    public func size() throws -> Int {
        var s: MPI_Offset = 0
        try check(MPI_File_get_size(handle, &s), "MPI_File_get_size(\(path))")
        return Int(s)
    }

    /// MPI_File_write_at_all: every rank writes its `floats` (none allowed) at its own byte
    /// offset. Collective: every rank must make the same sequence of these calls.
    /// The count written is checked: a short write (a full disk, a quota) throws `MPIShortfall`.
    public func writeAtAll(offset: Int, floats: UnsafeBufferPointer<Float>) throws {
        try transfer(.writeAll, offset: offset, UnsafeRawPointer(floats.baseAddress), count: floats.count, float: true)
    }

    /// MPI_File_write_at: this rank alone writes `bytes` at `offset`; a short write throws.
    public func writeAt(offset: Int, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try transfer(.write, offset: offset, $0.baseAddress, count: $0.count, float: false) }
    }

    /// MPI_File_read_at: this rank alone reads exactly `count` bytes at `offset`; a short read
    /// (the file ends first) throws.
    public func readAt(offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { try transfer(.read, offset: offset, UnsafeRawPointer($0.baseAddress), count: count, float: false) }
        return out
    }

    /// MPI_File_read_at filling `floats`; a short read throws.
    public func readAt(offset: Int, into floats: UnsafeMutableBufferPointer<Float>) throws {
        try transfer(.read, offset: offset, UnsafeRawPointer(floats.baseAddress), count: floats.count, float: true)
    }

    private enum Transfer: String {
        case writeAll = "MPI_File_write_at_all", write = "MPI_File_write_at", read = "MPI_File_read_at"
    }

    /// One MPI-IO call moving `count` floats or bytes at `offset` (a read writes through
    /// `buffer`), then the count moved checked against `count`.
    private func transfer(_ kind: Transfer, offset: Int, _ buffer: UnsafeRawPointer?, count: Int, float: Bool) throws {
        precondition(count >= 0 && count <= Int(Int32.max))
        let type: MPI_Datatype = float ? CMPI_FLOAT() : CMPI_BYTE()
        let unit = float ? "floats" : "bytes"
        let at = MPI_Offset(offset), n = Int32(count)
        var status = MPI_Status()
        let code: Int32
        switch kind {
        case .writeAll: code = MPI_File_write_at_all(handle, at, buffer, n, type, &status)
        case .write: code = MPI_File_write_at(handle, at, buffer, n, type, &status)
        case .read: code = MPI_File_read_at(handle, at, UnsafeMutableRawPointer(mutating: buffer), n, type, &status)
        }
        try check(code, "\(kind.rawValue)(\(path), \(count) \(unit) at \(offset))")
        try MPIShortfall.checkTransfer(&status, type, expected: count, unit: unit, verb: kind == .read ? "read" : "wrote",
                                       call: "\(kind.rawValue)(\(path))", offset: offset)
    }

    /// MPI_File_sync: flushes every rank's writes to storage. Collective.
    public func sync() throws {
        try check(MPI_File_sync(handle), "MPI_File_sync(\(path))")
    }

    /// MPI_File_close. Collective.
    public func close() throws {
        guard handle != nil else { return }
        try check(MPI_File_close(&handle), "MPI_File_close(\(path))")
        handle = nil
    }
}

import Foundation

/// A TensorBoard event file of scalars, hand-encoded: TFRecord framing (uint64 little-endian
/// length, masked CRC-32C of the length, the bytes, masked CRC-32C of the bytes) around `Event`
/// protos (tensorflow/core/util/event.proto): a first record with `file_version`
/// "brain.Event:2", then one Event per (step, tag, value) with a `Summary` holding one
/// `simple_value`. Records are buffered and written by `flush()`. Writing never throws: the
/// first failure is kept in `failure` (the caller warns) and the writer stops.
public final class EventFile {
    public let path: String
    public private(set) var failure: String?
    private var handle: FileHandle?
    private var pending = Data()

    /// A new file `events.out.tfevents.<unix time>.<host>` in `directory` (created if missing;
    /// a name already taken gets a `.1`, `.2`, ... suffix, so a resumed run appends a new file).
    public init(directory: String, host: String, time: Date = Date()) {
        let base = "\(directory)/events.out.tfevents.\(Int(time.timeIntervalSince1970)).\(host)"
        var name = base
        var n = 0
        while FileManager.default.fileExists(atPath: name) { n += 1; name = "\(base).\(n)" }
        path = name
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            handle = h
        } catch {
            failure = "cannot create \(path) (\(error.localizedDescription))"
            return
        }
        var version = Proto()
        version.double(1, time.timeIntervalSince1970)
        version.bytes(3, Array("brain.Event:2".utf8))
        record(version.out)
        flush()
    }

    /// Queues one scalar at a global step.
    public func scalar(_ tag: String, _ value: Double, step: Int, time: Date = Date()) {
        guard handle != nil else { return }
        var v = Proto()
        v.bytes(1, Array(tag.utf8))
        v.float(2, Float(value))
        var summary = Proto()
        summary.bytes(1, v.out)
        var event = Proto()
        event.double(1, time.timeIntervalSince1970)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        event.bytes(5, summary.out)
        record(event.out)
    }

    /// Writes what is queued (so a running job can be watched).
    public func flush() {
        guard let h = handle, !pending.isEmpty else { return }
        do {
            try h.write(contentsOf: pending)
            pending.removeAll(keepingCapacity: true)
        } catch {
            failure = "cannot write \(path) (\(error.localizedDescription))"
            try? h.close()
            handle = nil
        }
    }

    public func close() {
        flush()
        try? handle?.close()
        handle = nil
    }

    private func record(_ data: [UInt8]) {
        var length = [UInt8]()
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { length.append(contentsOf: $0) }
        pending.append(contentsOf: length)
        withUnsafeBytes(of: CRC32C.masked(length).littleEndian) { pending.append(contentsOf: $0) }
        pending.append(contentsOf: data)
        withUnsafeBytes(of: CRC32C.masked(data).littleEndian) { pending.append(contentsOf: $0) }
    }
}

/// Protocol-buffer wire format, the four field kinds an Event of scalars needs.
struct Proto {
    var out: [UInt8] = []

    mutating func raw(_ v: UInt64) {
        var v = v
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }
    mutating func key(_ field: Int, _ wire: Int) { raw(UInt64(field << 3 | wire)) }
    mutating func varint(_ field: Int, _ v: UInt64) { key(field, 0); raw(v) }
    mutating func double(_ field: Int, _ v: Double) {
        key(field, 1)
        withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
    }
    mutating func bytes(_ field: Int, _ b: [UInt8]) { key(field, 2); raw(UInt64(b.count)); out += b }
    mutating func float(_ field: Int, _ v: Float) {
        key(field, 5)
        withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
    }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), and TFRecord's mask of it.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func masked(_ bytes: [UInt8]) -> UInt32 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}

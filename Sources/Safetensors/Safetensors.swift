import Foundation
import LionEngine

/// The safetensors format (Hugging Face's): an 8-byte little-endian header length N, N bytes of
/// JSON `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}`
/// (padded with spaces to a multiple of 8), then the tensors' raw little-endian bytes, offsets
/// relative to the end of the header. Only F32 and BF16 tensors are read and written here.
public enum Safetensors {
    /// The format's limit on the header (100 MB), which readers enforce before parsing it.
    public static let maxHeaderBytes = 100_000_000

    public enum DType: String, Sendable {
        case f32 = "F32"
        case bf16 = "BF16"
        public var bytes: Int { self == .f32 ? 4 : 2 }
    }

    /// One tensor to write: its name, shape and values (converted to `dtype` on writing).
    public struct Tensor {
        public let name: String
        public let shape: [Int]
        public let values: ArraySlice<Float>
        public init(name: String, shape: [Int], values: ArraySlice<Float>) {
            precondition(shape.reduce(1, *) == values.count, "safetensors: \(name) has \(values.count) values for shape \(shape)")
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// The whole file: header, then the tensors back to back in the order given.
    public static func encode(_ tensors: [Tensor], dtype: DType, metadata: [String: String]) throws -> Data {
        var header: [String: Any] = ["__metadata__": metadata]
        var at = 0
        for t in tensors {
            let bytes = t.values.count * dtype.bytes
            header[t.name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [at, at + bytes]] as [String: Any]
            at += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out = Data(capacity: 8 + json.count + at)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for t in tensors {
            switch dtype {
            case .f32:
                for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            case .bf16:
                for v in t.values { withUnsafeBytes(of: BFloat16.fromFloat(v).littleEndian) { out.append(contentsOf: $0) } }
            }
        }
        return out
    }
}

/// A problem with a safetensors file, as one line.
public struct SafetensorsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A safetensors file read whole and checked: every tensor's dtype, shape and byte range.
public struct SafetensorsFile {
    public struct Entry: Equatable {
        public let name: String
        public let dtype: Safetensors.DType
        public let shape: [Int]
        /// Bytes of the data section (after the header).
        public let range: Range<Int>
    }

    public let path: String
    /// The entries in the order of their data.
    public let entries: [Entry]
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SafetensorsError("\(path): cannot read the file; check the path")
        }
        try self.init(data: data, path: path)
    }

    public init(data: Data, path: String) throws {
        self.path = path
        self.data = data
        func bad(_ why: String) -> SafetensorsError { SafetensorsError("\(path) is not a safetensors file: \(why)") }
        guard data.count >= 8 else { throw bad("\(data.count) bytes, shorter than the 8-byte header length") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(Safetensors.maxHeaderBytes) else { throw bad("header length \(n) is above the format's 100 MB limit") }
        guard n <= UInt64(data.count - 8) else { throw bad("header length \(n) runs past the end of the file (\(data.count) bytes)") }
        dataStart = 8 + Int(n)
        let json = data.subdata(in: data.startIndex + 8 ..< data.startIndex + dataStart)
        guard let object = try? JSONSerialization.jsonObject(with: json), let header = object as? [String: Any] else {
            throw bad("its \(n)-byte header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let m = header["__metadata__"] {
            guard let map = m as? [String: String] else { throw bad("__metadata__ is not a map of strings") }
            metadata = map
        }
        let size = data.count - dataStart
        var entries: [Entry] = []
        // In the order of the data, so a truncated file names its last tensor.
        func begin(_ value: Any) -> Int { ((value as? [String: Any])?["data_offsets"] as? [Int])?.first ?? -1 }
        let listed = header.filter { $0.key != "__metadata__" }.sorted { (begin($0.value), $0.key) < (begin($1.value), $1.key) }
        for (name, value) in listed {
            guard let e = value as? [String: Any], let dt = e["dtype"] as? String,
                  let shape = e["shape"] as? [Int], let offsets = e["data_offsets"] as? [Int], offsets.count == 2 else {
                throw bad("tensor \(name) lacks dtype, shape or data_offsets [begin, end]")
            }
            guard let dtype = Safetensors.DType(rawValue: dt) else {
                throw SafetensorsError("\(path): tensor \(name) is \(dt); only F32 and BF16 tensors are read (convert it, e.g. .float())")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= size,
                  offsets[1] - offsets[0] == shape.reduce(1, *) * dtype.bytes else {
                throw bad("tensor \(name) of shape \(shape) \(dt) has data_offsets \(offsets), which do not fit it or the \(size) data bytes (truncated?)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, range: offsets[0]..<offsets[1]))
        }
        self.entries = entries
        self.metadata = metadata
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// A tensor's values as Float (BF16 widened exactly).
    public func floats(_ e: Entry) -> [Float] {
        let count = e.shape.reduce(1, *)
        return data.withUnsafeBytes { raw in
            let base = dataStart + e.range.lowerBound
            switch e.dtype {
            case .f32:
                return (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * $0, as: UInt32.self))) }
            case .bf16:
                return (0..<count).map { BFloat16.toFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * $0, as: UInt16.self))) }
            }
        }
    }

    /// True when the file starts like a safetensors file (a plausible header length, then '{').
    public static func looksLike(path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = h.readData(ofLength: 9)
        guard head.count == 9 else { return false }
        return head[head.startIndex + 8] == UInt8(ascii: "{") && head[head.startIndex + 6] == 0 && head[head.startIndex + 7] == 0
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Collectives
import FashionData

/// Where the MLP's images come from: normalized float arrays (`ImageSet`, what a sweep loads
/// once for many runs) or the compact bytes held once per node (`SharedImages`). Either way a
/// batch is written as (x/255 - mean)/std floats, bit for bit the same.
protocol ImageSource {
    var count: Int { get }
    /// Pixels per image (784).
    var features: Int { get }
    /// Writes image `index` normalized into `out` (`features` floats) and returns its label.
    func copy(image index: Int, into out: UnsafeMutableBufferPointer<Float>) -> UInt8
}

extension ImageSet: ImageSource {
    var features: Int { rows * cols }

    func copy(image index: Int, into out: UnsafeMutableBufferPointer<Float>) -> UInt8 {
        precondition(out.count == features, "an image row holds \(features) floats, got \(out.count)")
        _ = out.initialize(from: pixels[index * features..<(index + 1) * features])
        return labels[index]
    }
}

/// One split of Fashion-MNIST as bytes in node-shared memory: `count` images of 784 bytes,
/// then `count` labels. Read-only after loading.
struct SharedImageSplit: ImageSource {
    let count: Int
    let features = 28 * 28
    /// `count` images of `features` bytes, then `count` labels.
    let bytes: UnsafeBufferPointer<UInt8>
    /// Keeps the window mapped.
    let owner: NodeSharedBytes

    func copy(image index: Int, into row: UnsafeMutableBufferPointer<Float>) -> UInt8 {
        precondition(row.count == features, "an image row holds \(features) floats, got \(row.count)")
        let image = UnsafeBufferPointer(rebasing: bytes[index * features..<(index + 1) * features])
        for i in 0..<features { row[i] = FashionMNIST.normalized(image[i]) }
        return bytes[count * features + index]
    }
}

#if canImport(Glibc)
/// glibc's malloc_trim (malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
public func mallocTrim(_ pad: Int) -> Int32
#endif

/// Fashion-MNIST once per node, as stored (uint8 pixels and labels: 55 MB instead of 220 MB of
/// float32 per rank): node rank 0 reads the files into node-shared memory, every rank of the
/// node reads it, and batches are normalized as they are gathered.
public final class SharedImages {
    let shared: NodeSharedBytes
    public let counts: (train: Int, test: Int)

    /// Bytes of one image with its label.
    static let recordBytes = 28 * 28 + 1

    /// Bytes the node holds (both splits).
    static func bytes(train: Int, test: Int) -> Int { (train + test) * recordBytes }

    /// Collective over `world` (`node` is its node's ranks): node rank 0 of each node reads the
    /// files (every rank agrees on a failure), then copies them into shared memory.
    public init(directory: String, world: Communicator, node: Communicator) throws {
        let raw = try world.agree { () throws -> [(count: Int, bytes: [UInt8], labels: [UInt8])] in
            guard node.rank == 0 else { return [] }
            return [try FashionMNIST.loadRawSplit(directory: directory, prefix: "train"),
                    try FashionMNIST.loadRawSplit(directory: directory, prefix: "t10k")]
        }
        let train = Int(try node.allreduceMax(Int64(raw.first?.count ?? 0)))
        let test = Int(try node.allreduceMax(Int64(raw.last?.count ?? 0)))
        counts = (train, test)
        shared = try NodeSharedBytes(node: node, count: Self.bytes(train: train, test: test)) { segment in
            var at = 0
            for part in raw.flatMap({ [$0.bytes, $0.labels] }) {
                UnsafeMutableRawBufferPointer(rebasing: segment[at..<at + part.count]).copyBytes(from: part)
                at += part.count
            }
        }
        // The loader's buffers (gzip, raw arrays) went back to the heap; return them to the
        // system, or node rank 0 keeps ~40 MB of them resident.
        #if canImport(Glibc)
        _ = mallocTrim(0)
        #endif
    }

    var train: SharedImageSplit {
        SharedImageSplit(count: counts.train, bytes: UnsafeBufferPointer(rebasing: shared.bytes[..<(counts.train * Self.recordBytes)]), owner: shared)
    }

    var test: SharedImageSplit {
        SharedImageSplit(count: counts.test, bytes: UnsafeBufferPointer(rebasing: shared.bytes[(counts.train * Self.recordBytes)...]), owner: shared)
    }

    /// This rank's share of the node's bytes.
    var heldBytes: Int { shared.heldBytes }
}

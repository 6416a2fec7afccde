/// A zeroed, 64-byte aligned Float allocation owned by a combiner (private buffers: the
/// allreduce path's P and G, staging).
final class AlignedFloats {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 16) * 4)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 16))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

// Unaligned SIMD loads and stores over raw pointers, shared by the kernels.
// `loadUnaligned` / `storeBytes` compile to plain movups; no alignment is assumed so a chunk
// may start anywhere, although the engine hands out 16-element aligned chunks.

@usableFromInline typealias F8 = SIMD8<Float>
@usableFromInline typealias H8 = SIMD8<UInt16>

@inlinable @inline(__always)
func load8(_ p: UnsafePointer<Float>, _ i: Int) -> F8 {
    UnsafeRawPointer(p + i).loadUnaligned(as: F8.self)
}

@inlinable @inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> F8 {
    UnsafeRawPointer(p + i).loadUnaligned(as: F8.self)
}

@inlinable @inline(__always)
func store8(_ v: F8, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: F8.self)
}

@inlinable @inline(__always)
func load8(_ p: UnsafeMutablePointer<UInt16>, _ i: Int) -> H8 {
    UnsafeRawPointer(p + i).loadUnaligned(as: H8.self)
}

@inlinable @inline(__always)
func store8(_ v: H8, _ p: UnsafeMutablePointer<UInt16>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: H8.self)
}

import DeterministicRandom
import LionEngine
import XCTest

/// Deterministic test data (SplitMix64).
struct TestRandom {
    private var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { rng.next() }
    /// Uniform in [-scale, scale), with about 1 in 16 values exactly 0 (and some -0).
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in
            let r = next()
            if r & 15 == 0 { return (r & 16) == 0 ? 0 : -0.0 }
            return (Float(r >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }
}

/// Index of the first element whose bit pattern differs, or nil.
func firstBitMismatch(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Int? {
    precondition(a.count == b.count)
    for i in 0..<a.count where a[i].bitPattern != b[i].bitPattern { return i }
    return nil
}

func firstBitMismatch(_ a: [Float], _ b: [Float]) -> Int? {
    a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in firstBitMismatch(x, y) } }
}

func firstMismatch(_ a: [UInt16], _ b: [UInt16]) -> Int? {
    precondition(a.count == b.count)
    for i in 0..<a.count where a[i] != b[i] { return i }
    return nil
}

func assertBitEqual(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    if let i = firstBitMismatch(a, b) {
        XCTFail("\(what): element \(i) of \(a.count) differs: \(a[i]) vs reference \(b[i])", file: file, line: line)
    }
}

func assertEqual(_ a: [UInt16], _ b: [UInt16], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    if let i = firstMismatch(a, b) {
        XCTFail("\(what): element \(i) differs: 0x\(String(a[i], radix: 16)) vs reference 0x\(String(b[i], radix: 16))",
                file: file, line: line)
    }
}

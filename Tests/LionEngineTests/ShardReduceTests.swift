import Basics
import XCTest
import LionEngine

/// The shared-memory reduce-scatter kernel against a scalar reference, element by element and
/// bit for bit, over odd lengths (SIMD tails), several source counts, aliasing dst = a source,
/// and the norm it returns against `scaleAndSumSquares` on the reference sums.
final class ShardReduceTests: XCTestCase {
    func reference(_ sources: [[Float]], scale: Float) -> [Float] {
        (0..<sources[0].count).map { i in
            var s = sources[0][i]
            for p in 1..<sources.count { s += sources[p][i] }
            return s * scale
        }
    }

    func testMatchesScalarReferenceBitwise() {
        var rng = TestRandom(seed: 11)
        let pool = ThreadPool(threads: 2)
        for count in [1, 7, 8, 9, 100, 32 * 1024 + 13, 70_001] {
            for peers in 1...4 {
                let sources = (0..<peers).map { _ in rng.floats(count, scale: 3) }
                let scale: Float = 1 / Float(peers + 1)
                let expected = reference(sources, scale: scale)
                var out = [Float](repeating: .nan, count: count)
                let squares = withPointers(sources) { ptrs in
                    out.withUnsafeMutableBufferPointer {
                        sumScaleAndSumSquares(ptrs, into: $0.baseAddress!, count: count, scale: scale, pool: pool)
                    }
                }
                assertBitEqual(out, expected, "count \(count), \(peers) sources")
                var check = expected
                let norm = check.withUnsafeMutableBufferPointer {
                    scaleAndSumSquares($0.baseAddress!, count: count, scale: 1, pool: pool)
                }
                XCTAssertEqual(squares.bitPattern, norm.bitPattern, "sum of squares, count \(count), \(peers) sources")
            }
        }
    }

    func testDestinationMayBeASource() {
        var rng = TestRandom(seed: 12)
        let pool = ThreadPool(threads: 1)
        let count = 1_003
        var a = rng.floats(count), b = rng.floats(count), c = rng.floats(count)
        let expected = reference([a, b, c], scale: 0.25)
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    let srcs = [UnsafePointer(pa.baseAddress!), UnsafePointer(pb.baseAddress!), UnsafePointer(pc.baseAddress!)]
                    _ = sumScaleAndSumSquares(srcs, into: pb.baseAddress!, count: count, scale: 0.25, pool: pool)
                }
            }
        }
        assertBitEqual(b, expected, "in place into the second source")
    }

    func testNonFiniteGivesNonFiniteSquares() {
        let pool = ThreadPool(threads: 1)
        var a: [Float] = [1, 2, .infinity, 4], b: [Float] = [1, 1, 1, 1]
        var out = [Float](repeating: 0, count: 4)
        let s = a.withUnsafeMutableBufferPointer { pa in b.withUnsafeMutableBufferPointer { pb in
            out.withUnsafeMutableBufferPointer {
                sumScaleAndSumSquares([UnsafePointer(pa.baseAddress!), UnsafePointer(pb.baseAddress!)],
                                      into: $0.baseAddress!, count: 4, scale: 0.5, pool: pool)
            } } }
        XCTAssertFalse(s.isFinite)
        XCTAssertEqual(out[0], 1)
        XCTAssertEqual(out[1], 1.5)
    }

    func testParallelCopy() {
        var rng = TestRandom(seed: 13)
        let src = rng.floats(100_000)
        var dst = [Float](repeating: 0, count: src.count)
        src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in
            parallelCopy(from: s.baseAddress!, to: d.baseAddress!, count: s.count, pool: ThreadPool(threads: 2))
        } }
        assertBitEqual(dst, src, "copy")
    }

    private func withPointers<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>]) -> R) -> R {
        var ptrs: [UnsafePointer<Float>] = []
        var buffers: [UnsafeMutablePointer<Float>] = []
        for a in arrays {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: a.count)
            p.initialize(from: a, count: a.count)
            buffers.append(p)
            ptrs.append(UnsafePointer(p))
        }
        defer { buffers.forEach { $0.deallocate() } }
        return body(ptrs)
    }
}

import XCTest
@testable import Model

/// The attention's tile transpose (Transpose.swift): the AVX-512 body (where the CPU has it) and
/// the plain loops against a scalar transpose in the test, bit for bit, on shapes with ragged
/// 16x16 blocks, strides wider than the rows, and nothing written outside the (cols, rows) block.
final class TransposeTests: XCTestCase {
    func testMatchesAScalarTranspose() {
        var r = TestRandom(seed: 41)
        let shapes = [(1, 1), (16, 16), (64, 32), (64, 64), (17, 33), (5, 70), (37, 4), (100, 15), (31, 48), (0, 5), (3, 0)]
        for (rows, cols) in shapes {
            let (lds, ldd) = (cols + 3, rows + 5)
            let src = r.floats(max(1, rows * lds), -2, 2)
            let sentinel = Float(bitPattern: 0x7FC0_1234)
            var want = [Float](repeating: sentinel, count: max(1, cols * ldd))
            for i in 0..<rows { for j in 0..<cols { want[j * ldd + i] = src[i * lds + j] } }
            forEachKernelBody { avx in
                var got = [Float](repeating: sentinel, count: want.count)
                transpose(src, lds: lds, into: &got, ldd: ldd, rows: rows, cols: cols)
                XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "\(rows) x \(cols), AVX-512 \(avx)")
            }
        }
    }
}

import XCTest
import LionEngine

final class BFloat16Tests: XCTestCase {
    /// (fp32 bits, expected bf16 bits) chosen by hand.
    let cases: [(UInt32, UInt16, String)] = [
        (0x3F80_0000, 0x3F80, "1.0 exact"),
        (0x3F80_8000, 0x3F80, "tie, even below: stays"),
        (0x3F81_8000, 0x3F82, "tie, odd below: rounds up to even"),
        (0x3F80_8001, 0x3F81, "just above the tie: up"),
        (0x3F80_7FFF, 0x3F80, "just below the tie: down"),
        (0xBF81_8000, 0xBF82, "negative tie to even"),
        (0x0000_0000, 0x0000, "+0"),
        (0x8000_0000, 0x8000, "-0"),
        (0x0000_8000, 0x0000, "smallest subnormal tie -> 0"),
        (0x0001_8000, 0x0002, "subnormal tie to even"),
        (0x7F7F_7FFF, 0x7F7F, "rounds down to bf16 max"),
        (0x7F7F_8000, 0x7F80, "tie above bf16 max rounds to +Inf"),
        (0x7F7F_FFFF, 0x7F80, "fp32 max rounds to +Inf"),
        (0xFF7F_FFFF, 0xFF80, "-fp32 max rounds to -Inf"),
        (0x7F80_0000, 0x7F80, "+Inf"),
        (0xFF80_0000, 0xFF80, "-Inf"),
        (0x7FC0_0000, 0x7FC0, "quiet NaN"),
        (0x7F80_0001, 0x7FC0, "signaling NaN with low payload stays NaN (quieted)"),
        (0xFFFF_FFFF, 0xFFFF, "all-ones NaN must not wrap to 0"),
        (0x7FFF_8000, 0x7FFF, "NaN with top mantissa bits"),
    ]

    func testScalarRoundToNearestEven() {
        for (bits, want, what) in cases {
            let got = BFloat16.fromFloat(Float(bitPattern: bits))
            XCTAssertEqual(got, want, "\(what): 0x\(String(bits, radix: 16)) -> 0x\(String(got, radix: 16))")
            if Float(bitPattern: bits).isNaN {
                XCTAssertTrue(BFloat16.toFloat(got).isNaN, "\(what) must stay NaN")
            }
        }
    }

    func testSIMDMatchesScalar() {
        var all = cases.map { $0.0 }
        while all.count % 8 != 0 { all.append(0x4049_0FDB) }  // pi
        for start in stride(from: 0, to: all.count, by: 8) {
            var v = SIMD8<Float>()
            for j in 0..<8 { v[j] = Float(bitPattern: all[start + j]) }
            let h = BFloat16.fromFloat(v)
            let back = BFloat16.toFloat(h)
            for j in 0..<8 {
                XCTAssertEqual(h[j], BFloat16.fromFloat(v[j]), "lane \(j) of 0x\(String(all[start + j], radix: 16))")
                XCTAssertEqual(back[j].bitPattern, BFloat16.toFloat(h[j]).bitPattern)
            }
        }
    }

    func testWideningIsExactAndRoundTrips() {
        var bad: [Int] = []
        for h in 0...0xFFFF {
            let f = BFloat16.toFloat(UInt16(h))
            if f.bitPattern != UInt32(h) << 16 { bad.append(h) }
            if !f.isNaN && BFloat16.fromFloat(f) != UInt16(h) { bad.append(h) }
        }
        XCTAssertEqual(bad, [], "bf16 patterns that do not widen exactly or round-trip")
    }
}

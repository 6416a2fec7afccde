import Foundation

/// The sgemm rate this process gets now on `ComputeThreads.count` threads (the models' own
/// `sgemm`, rows split over the threads): the yardstick of the
/// model FLOPs utilisation (MFU) the trainer reports.
///
/// Times square single-precision products of side `size` (2 n^3 FLOPs each) for about
/// `seconds` after one warm-up, and returns the best of three rounds in FLOP/s. Square 512s
/// run near OpenBLAS's peak on AVX-512 cores; the GPT's own products are smaller and thinner,
/// so an MFU well below 1 is expected even for an efficient implementation.
public enum SGEMMRate {
    public static func measure(size n: Int = 512, seconds: Double = 0.15) -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        return bestRate(flops: 2 * Double(n * n * n), seconds: seconds) {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        sgemm(false, false, M: n, N: n, K: n, pa.baseAddress!, lda: n, pb.baseAddress!, ldb: n,
                              pc.baseAddress!, ldc: n, accumulate: false)
                    }
                }
            }
        }
    }

    /// FLOP/s of `product` (`flops` each): one warm-up call, then the best of three rounds of
    /// about seconds / 3 each.
    static func bestRate(flops: Double, seconds: Double, _ product: () -> Void) -> Double {
        product()
        var best = 0.0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            var count = 0, elapsed = 0.0
            repeat {
                product()
                count += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            } while elapsed < seconds / 3
            best = max(best, flops * Double(count) / elapsed)
        }
        return best
    }
}

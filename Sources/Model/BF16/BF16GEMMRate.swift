/// The bf16 matmul rate this process gets now on `ComputeThreads.count` threads, through the
/// same split as the GPT's products (`BF16SplitGEMM`: one oneDNN call per thread): the
/// yardstick of the model FLOPs utilisation under `--compute-dtype bf16`, as `SGEMMRate` is
/// for fp32, timed the same way (square products of side `size`, 2 n^3 FLOPs each, one warm-up
/// that also creates the primitive, best of three rounds, FLOP/s). Operands are bf16 already:
/// the narrowing of activations is not counted.
public enum BF16GEMMRate {
    public static func measure(size n: Int = 512, seconds: Double = 0.15) -> Double {
        let gemm = BF16SplitGEMM()
        let a = [UInt16](repeating: 0x3F00, count: n * n), b = [UInt16](repeating: 0x3E80, count: n * n)  // 0.5, 0.25
        var c = [Float](repeating: 0, count: n * n)
        return SGEMMRate.bestRate(flops: 2 * Double(n * n * n), seconds: seconds) {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        gemm.gemm(false, false, M: n, N: n, K: n, pa.baseAddress!, lda: n, pb.baseAddress!, ldb: n,
                                  pc.baseAddress!, ldc: n, accumulate: false)
                    }
                }
            }
        }
    }
}

import CKernels

/// Cautious Lion's bit planes for `count` elements: three planes of `words` 64-bit words
/// (positive, moving, aligned), one allocation, 64-byte aligned. Written by the sign pass,
/// read by the apply pass of the same step.
public final class CautiousBits {
    public let count: Int
    public let words: Int
    private let storage: UnsafeMutablePointer<UInt64>

    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        words = max(1, (count + 63) / 64)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 3 * words * 8, alignment: 64)
        storage = raw.initializeMemory(as: UInt64.self, repeating: 0, count: 3 * words)
    }

    deinit { storage.deallocate() }

    /// 3 * words * 8: 3 bits per element, rounded up to words.
    public var bytes: Int { Self.bytes(count: count) }

    /// What `CautiousBits(count:)` allocates.
    public static func bytes(count: Int) -> Int { 3 * max(1, (count + 63) / 64) * 8 }

    var planes: CKCautiousBits { CKCautiousBits(positive: storage, moving: storage + words, aligned: storage + 2 * words) }
    var readPlanes: CKCautiousReadBits {
        CKCautiousReadBits(positive: storage, moving: storage + words, aligned: storage + 2 * words)
    }

    /// Bit `i` of plane 0 (positive), 1 (moving) or 2 (aligned), for tests.
    public func bit(_ plane: Int, _ i: Int) -> Bool {
        (storage[plane * words + i / 64] >> UInt64(i % 64)) & 1 == 1
    }
}

/// Cautious Lion (Liang et al. 2024, "Cautious Optimizers", arXiv 2411.16085, algorithm 2; as
/// lion-pytorch 0.2.5's `cautious_lion.Lion`), per tensor:
/// ```
/// u = sign(b1*m + (1-b1)*g)                   // g = grad * gradScale
/// aligned = u*g > 0
/// scale = aligned ? 1 : factor;  scale /= max(mean(scale over the tensor), 1e-5)
/// p = p*(1 - lr*wd) - lr*u*scale
/// m = b2*m + (1-b2)*g
/// ```
/// The mean is over a whole tensor, whose elements may lie on several ranks, so the step is two
/// passes with a count in between: `sign` (u, the aligned bit, the new m; returns the piece's
/// aligned count), then, once the counts of the tensor are summed, `apply` with
/// `ApplyConstants(lr:decay:factor:aligned:count:)`. With factor 1 the scale is 1/1 = 1 and
/// the result is bitwise plain Lion's. Bitwise equal to `Reference.cautiousLionStep` on every
/// path (`KernelPathTests`): AVX-512 versions of all three; `avx2` and `portable` run the plain
/// C versions.
public enum CautiousLionKernel {
    /// What the apply pass needs of a tensor: lr times each of its two scales, and the decay.
    public struct ApplyConstants: Sendable, Equatable {
        public var lrAligned: Float
        public var lrOther: Float
        public var decay: Float

        /// From the tensor's `aligned` count of `count` elements: mean = (aligned + factor *
        /// (count - aligned)) / count (the sum exact for the counts and factors this engine
        /// meets, then one Float division), clamped at 1e-5; lrAligned = lr * (1/mean),
        /// lrOther = lr * (factor/mean).
        public init(lr: Float, decay: Float, factor: Float, aligned: Int, count: Int) {
            let sum = Float(Double(aligned) + Double(factor) * Double(count - aligned))
            let mean = max(sum / Float(max(count, 1)), 1e-5)
            lrAligned = lr * (1 / mean)
            lrOther = lr * (factor / mean)
            self.decay = decay
        }

        var c: CKCautiousApply { CKCautiousApply(lrAligned: lrAligned, lrOther: lrOther, decay: decay) }
    }

    /// The sign pass over fp32 state: elements [0, count) of g and m, bits at [first, first+count).
    public static func signFP32(grads g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, bits: CautiousBits,
                                first: Int, count: Int, _ k: LionStepConstants, path: KernelPath = .best) -> Int {
        precondition(first >= 0 && first + count <= bits.count)
        switch path {
        case .avx512:
            precondition(path.isSupported, "AVX-512 kernels on a CPU without AVX-512F/BW")
            return Int(ck_cautious_sign_fp32_avx512(g, m, bits.planes, first, count, k.c))
        case .avx2, .portable:
            return Int(ck_cautious_sign_fp32(g, m, bits.planes, first, count, k.c))
        }
    }

    /// The sign pass over bf16 state (m widened exactly, rounded to nearest even on store).
    public static func signBF16(grads g: UnsafePointer<Float>, m: UnsafeMutablePointer<UInt16>, bits: CautiousBits,
                                first: Int, count: Int, _ k: LionStepConstants, path: KernelPath = .best) -> Int {
        precondition(first >= 0 && first + count <= bits.count)
        switch path {
        case .avx512:
            precondition(path.isSupported, "AVX-512 kernels on a CPU without AVX-512F/BW")
            return Int(ck_cautious_sign_bf16_avx512(g, m, bits.planes, first, count, k.c))
        case .avx2, .portable:
            return Int(ck_cautious_sign_bf16(g, m, bits.planes, first, count, k.c))
        }
    }

    /// The apply pass: p[0..<count] from the bits at [first, first+count).
    public static func apply(params p: UnsafeMutablePointer<Float>, bits: CautiousBits, first: Int, count: Int,
                             _ k: ApplyConstants, path: KernelPath = .best) {
        precondition(first >= 0 && first + count <= bits.count)
        switch path {
        case .avx512:
            precondition(path.isSupported, "AVX-512 kernels on a CPU without AVX-512F/BW")
            ck_cautious_apply_avx512(p, bits.readPlanes, first, count, k.c)
        case .avx2, .portable:
            ck_cautious_apply(p, bits.readPlanes, first, count, k.c)
        }
    }
}

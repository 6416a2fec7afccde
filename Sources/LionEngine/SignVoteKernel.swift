import CKernels

/// Per-step constants of the sign-vote voter (`SignVoteKernel.pack`): betas and the gradient
/// scale (clipping). The update's lr and decay are per parameter group (`apply`).
public struct SignVoteConstants: Sendable {
    public var beta1: Float
    public var beta2: Float
    public var gradScale: Float

    public init(beta1: Float, beta2: Float, gradScale: Float = 1) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.gradScale = gradScale
    }

    var c: CKSignVoteConstants {
        CKSignVoteConstants(b1: beta1, c1: 1 - beta1, b2: beta2, c2: 1 - beta2, scale: gradScale)
    }
}

/// The three kernels of sign-vote Lion (Distributed Lion, `--comm sign-vote`), one job each:
///
/// - `pack` (every rank, its full local momentum): c = b1*m + (1-b1)*g, m = b2*m + (1-b2)*g,
///   and one bit per element: 1 for a +1 vote (c > 0, or c == 0 with p > 0: a voter without
///   signal votes toward zero), 0 for -1. 64 elements per word, element i at bit i % 64.
/// - `vote` (the owner of a shard, over the W ranks' words of it): bit-sliced counters add the
///   W bit planes 64 elements at a time (a ripple of log2(W+1) AND/XOR per plane, no loop over
///   bits); comparisons with W/2 give sign (2*count > W) and nonzero (2*count != W: ties give 0).
/// - `apply` (every rank, all elements): p = p*decay - lr*v, v in {-1, 0, +1} from the two bits.
///
/// Bitwise equal, element by element, to `SignVoteReference` on every path (`KernelPath`):
/// AVX-512 versions of pack and apply; `avx2` and `portable` run the plain C versions (the
/// compiler vectorizes their branch-free bodies for baseline x86-64); vote is integer-only
/// and the same code on every path.
public enum SignVoteKernel {
    /// Vote counters are this wide at most: up to 2^16 - 1 voters.
    public static let maxVoters = (1 << Int(CK_SIGNVOTE_MAX_COUNTER_BITS)) - 1

    /// 64-bit words holding `count` bits.
    public static func words(_ count: Int) -> Int { (count + 63) / 64 }

    /// `bits` gets `words(count)` words; bits past `count` are 0.
    public static func pack(params p: UnsafePointer<Float>, grads g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                            bits: UnsafeMutablePointer<UInt64>, count: Int, _ k: SignVoteConstants, path: KernelPath = .best) {
        switch path {
        case .avx512:
            precondition(path.isSupported, "AVX-512 kernels on a CPU without AVX-512F/BW")
            ck_signvote_pack_avx512(p, g, m, bits, count, k.c)
        case .avx2, .portable:
            ck_signvote_pack(p, g, m, bits, count, k.c)
        }
    }

    /// `planes[q * stride + j]`: voter q's word j, q < voters, j < words.
    public static func vote(planes: UnsafePointer<UInt64>, stride: Int, voters: Int, words: Int,
                            sign: UnsafeMutablePointer<UInt64>, nonzero: UnsafeMutablePointer<UInt64>) {
        precondition(voters >= 1 && voters <= maxVoters, "sign-vote counts 1 to \(maxVoters) voters, got \(voters)")
        ck_signvote_vote(planes, stride, Int32(voters), words, sign, nonzero)
    }

    /// Bit planes of the vote counts for `voters` (`--vote average`): the width of `voters`.
    public static func counterBits(voters: Int) -> Int { Int(ck_signvote_counter_bits(Int32(voters))) }

    /// `--vote average`: the counts themselves, `counterBits(voters:)` planes `counterStride`
    /// words apart (plane b holds bit b of every count).
    public static func counts(planes: UnsafePointer<UInt64>, stride: Int, voters: Int, words: Int,
                              counters: UnsafeMutablePointer<UInt64>, counterStride: Int) {
        precondition(voters >= 1 && voters <= maxVoters, "sign-vote counts 1 to \(maxVoters) voters, got \(voters)")
        ck_signvote_counts(planes, stride, Int32(voters), words, counters, counterStride)
    }

    /// `--vote average`: p = p*decay - lr*v with v = (2*count - voters)/voters, the mean of the
    /// voters' +-1; element i's count is bit `first + i` of the counter planes.
    public static func applyAverage(params p: UnsafeMutablePointer<Float>, counters: UnsafePointer<UInt64>, counterStride: Int,
                                    voters: Int, first: Int, count: Int, lr: Float, decay: Float, path: KernelPath = .best) {
        switch path {
        case .avx512:
            precondition(path.isSupported, "AVX-512 kernels on a CPU without AVX-512F/BW")
            ck_signvote_apply_average_avx512(p, counters, counterStride, Int32(voters), first, count, lr, decay)
        case .avx2, .portable:
            ck_signvote_apply_average(p, counters, counterStride, Int32(voters), first, count, lr, decay)
        }
    }

    /// Element i's vote is bit `first + i` of `sign` and `nonzero`.
    public static func apply(params p: UnsafeMutablePointer<Float>, sign: UnsafePointer<UInt64>, nonzero: UnsafePointer<UInt64>,
                             first: Int, count: Int, lr: Float, decay: Float, path: KernelPath = .best) {
        switch path {
        case .avx512:
            precondition(path.isSupported, "AVX-512 kernels on a CPU without AVX-512F/BW")
            ck_signvote_apply_avx512(p, sign, nonzero, first, count, lr, decay)
        case .avx2, .portable:
            ck_signvote_apply(p, sign, nonzero, first, count, lr, decay)
        }
    }
}

/// Sign-vote Lion written straight from the equations, one element and one voter at a time:
/// what `SignVoteKernel` is tested against, and what the multi-rank tests simulate.
public enum SignVoteReference {
    /// One voter's vote for element i (+1 or -1), updating m[i].
    public static func vote(p: Float, g: Float, m: inout Float, beta1 b1: Float, beta2 b2: Float, gradScale: Float = 1) -> Int {
        let gs = g * gradScale
        let c = b1 * m + (1 - b1) * gs
        m = b2 * m + (1 - b2) * gs
        if c > 0 { return 1 }
        if c == 0 && p > 0 { return 1 }
        return -1
    }

    /// The majority of +-1 votes: +1, -1, or 0 for a tie.
    public static func majority(_ votes: [Int]) -> Int {
        let sum = votes.reduce(0, +)
        return sum > 0 ? 1 : (sum < 0 ? -1 : 0)
    }

    /// The mean of +-1 votes (`--vote average`): sum / W.
    public static func average(_ votes: [Int]) -> Float {
        Float(votes.reduce(0, +)) / Float(votes.count)
    }

    /// p*decay - lr*v.
    public static func apply(p: Float, vote v: Int, lr: Float, decay: Float) -> Float {
        p * decay - lr * Float(v)
    }

    /// p*decay - lr*v for an averaged vote.
    public static func apply(p: Float, average v: Float, lr: Float, decay: Float) -> Float {
        p * decay - lr * v
    }
}

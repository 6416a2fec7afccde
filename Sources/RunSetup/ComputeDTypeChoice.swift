import Collectives
import Model

/// `--compute-dtype`: fp32, bf16, or `auto` (the default): bf16 where this CPU multiplies bf16
/// natively (`BF16Support`) and oneDNN's bf16 products run at least `autoSpeedup` times fp32
/// sgemm's rate, fp32 elsewhere. Native is not enough: on an Intel Xeon without AMX oneDNN's
/// bf16 ran at 0.6-0.7x sgemm (docs/benchmarks.md). Both rates are measured at start on one
/// thread (~0.3 s) and averaged over the ranks, so every rank decides alike.
public enum ComputeDTypeChoice: String, CaseIterable, Sendable {
    case auto, fp32, bf16

    /// bf16's product rate over sgemm's at which auto picks bf16: the products are ~85% of a GPT
    /// step, the rest runs at fp32's speed, so a smaller edge would not pay for the narrowing.
    public static let autoSpeedup = 1.25

    /// The dtype to run, and for `auto` the line that says which and why.
    public struct Resolution: Sendable, Equatable {
        public let dtype: ComputeDType
        public let note: String?
        public init(dtype: ComputeDType, note: String?) {
            self.dtype = dtype
            self.note = note
        }
    }

    /// The dtype for this run; `auto` measures (collective over `world` when given: every rank
    /// of it must call).
    public func resolve(world: Communicator?) throws -> Resolution {
        switch self {
        case .fp32: return Resolution(dtype: .fp32, note: nil)
        case .bf16: return Resolution(dtype: .bf16, note: nil)
        case .auto:
            if let refusal = BF16Support.refusalReason() { return Self.decide(refusal: refusal, bf16FLOPS: 0, sgemmFLOPS: 1) }
            let saved = ComputeThreads.count
            ComputeThreads.set(1)
            defer { ComputeThreads.set(saved) }
            var bf16 = BF16GEMMRate.measure(), sgemm = SGEMMRate.measure()
            if let world, world.size > 1 {
                bf16 = try world.allreduceSum(bf16) / Double(world.size)
                sgemm = try world.allreduceSum(sgemm) / Double(world.size)
            }
            return Self.decide(refusal: nil, bf16FLOPS: bf16, sgemmFLOPS: sgemm)
        }
    }

    /// auto's rule: fp32 where bf16 is not native (`refusal`, the reason) or its products run
    /// below `autoSpeedup` x sgemm's rate; bf16 otherwise.
    public static func decide(refusal: String?, bf16FLOPS: Double, sgemmFLOPS: Double) -> Resolution {
        if let refusal { return Resolution(dtype: .fp32, note: "compute dtype: fp32 (auto: \(refusal))") }
        let ratio = bf16FLOPS / sgemmFLOPS
        let rates = String(format: "oneDNN's bf16 products run at %.2fx fp32 sgemm's rate on this CPU (%.0f vs %.0f GFLOP/s on one thread, measured now)",
                           ratio, bf16FLOPS / 1e9, sgemmFLOPS / 1e9)
        if ratio >= autoSpeedup {
            return Resolution(dtype: .bf16, note: "compute dtype: bf16 (auto: \(rates); --compute-dtype fp32 to run fp32)")
        }
        return Resolution(dtype: .fp32, note: String(format: "compute dtype: fp32 (auto: %@, below %.2fx; --compute-dtype bf16 to run bf16)",
                                                     rates, autoSpeedup))
    }
}

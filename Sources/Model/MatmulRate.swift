/// A measured matrix-product rate and what it measured ("sgemm", "bf16 oneDNN").
public struct MatmulRate: Sendable {
    public var flops: Double
    public var name: String
    /// The dtype whose products ran (the summary's `compute_dtype`).
    public var dtype: ComputeDType
    public init(flops: Double, name: String, dtype: ComputeDType = .fp32) {
        self.flops = flops
        self.name = name
        self.dtype = dtype
    }

    /// OpenBLAS sgemm on this rank's compute threads (`SGEMMRate`).
    public static func sgemm() -> MatmulRate { MatmulRate(flops: SGEMMRate.measure(), name: sgemmName) }
    public static let sgemmName = "sgemm"

    /// True for fp32 sgemm's rate (not another dtype's products).
    public var isSGEMM: Bool { name == Self.sgemmName }

    /// The rate of the GPT's products in `dtype`: sgemm, or oneDNN's bf16 (`BF16GEMMRate`).
    public static func measure(_ dtype: ComputeDType) -> MatmulRate {
        dtype == .bf16 ? MatmulRate(flops: BF16GEMMRate.measure(), name: "bf16 oneDNN", dtype: .bf16) : .sgemm()
    }
}

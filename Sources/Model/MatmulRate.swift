/// A measured matrix-product rate and what it measured ("sgemm", "bf16 oneDNN").
public struct MatmulRate: Sendable {
    public var flops: Double
    public var name: String
    public init(flops: Double, name: String) {
        self.flops = flops
        self.name = name
    }

    /// OpenBLAS sgemm on this rank's compute threads (`SGEMMRate`).
    public static func sgemm() -> MatmulRate { MatmulRate(flops: SGEMMRate.measure(), name: sgemmName) }
    public static let sgemmName = "sgemm"

    /// True for fp32 sgemm's rate (not another dtype's products).
    public var isSGEMM: Bool { name == Self.sgemmName }

    /// The rate of the GPT's products in `dtype`: sgemm, or oneDNN's bf16 (`BF16GEMMRate`).
    public static func measure(_ dtype: ComputeDType) -> MatmulRate {
        dtype == .bf16 ? MatmulRate(flops: BF16GEMMRate.measure(), name: "bf16 oneDNN") : .sgemm()
    }
}

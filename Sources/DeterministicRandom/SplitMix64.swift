/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and the same on every platform, so
/// every rank draws the same numbers from the same seed (initialization, shuffles, tests).
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in 0..<n (Lemire's multiply-shift with rejection: unbiased).
    public mutating func next(below n: Int) -> Int {
        let bound = UInt64(n)
        let threshold = (0 &- bound) % bound
        while true {
            let m = next().multipliedFullWidth(by: bound)
            if m.low >= threshold { return Int(m.high) }
        }
    }
}

/// The median of the finite values (the mean of the middle two for an even count); NaN when
/// there is none. Benchmarks and reports summarise repeated timings with it.
public func median(_ xs: [Double]) -> Double {
    let s = xs.filter(\.isFinite).sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

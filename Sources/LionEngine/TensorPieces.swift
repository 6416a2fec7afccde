/// Which tensor each element of an optimizer's range belongs to: cautious Lion divides each
/// tensor's scales by their mean over the WHOLE tensor, whose elements may lie in several
/// ranks' shards. Each rank counts its pieces; the counts are summed over the ranks by tensor.
public struct TensorPieces: Sendable, Equatable {
    /// A run of elements of one tensor inside this optimizer's range.
    public struct Piece: Sendable, Equatable {
        /// In this optimizer's coordinates, [0, count).
        public var range: Range<Int>
        /// Index into `sizes`.
        public var tensor: Int
    }

    /// Elements of each tensor in all (the mean's denominator), wherever they lie.
    public let sizes: [Int]
    /// Ascending, disjoint; elements outside every piece (shard padding) belong to no tensor.
    public let pieces: [Piece]

    /// `tensors` are the tensors' ranges in the global flat buffer (disjoint); `window` is this
    /// optimizer's part of that buffer (a rank's shard).
    public init(tensors: [Range<Int>], window: Range<Int>) {
        sizes = tensors.map(\.count)
        var pieces: [Piece] = []
        for (t, r) in tensors.enumerated() {
            let lo = max(r.lowerBound, window.lowerBound), hi = min(r.upperBound, window.upperBound)
            if lo < hi { pieces.append(Piece(range: (lo - window.lowerBound)..<(hi - window.lowerBound), tensor: t)) }
        }
        pieces.sort { $0.range.lowerBound < $1.range.lowerBound }
        for (a, b) in zip(pieces, pieces.dropFirst()) {
            precondition(a.range.upperBound <= b.range.lowerBound, "tensors overlap at \(b.range.lowerBound + window.lowerBound)")
        }
        self.pieces = pieces
    }

    /// One tensor covering [0, count): a plain single-process optimizer's view.
    public static func whole(_ count: Int) -> TensorPieces {
        TensorPieces(tensors: [0..<count], window: 0..<count)
    }
}

/// A run of elements with one parameter group and one tensor (or none: -1): where the cautious
/// kernels' constants change. Spans tile [0, count) in order.
struct OptimizerSpan {
    var range: Range<Int>
    var group: Int
    var tensor: Int

    /// The common refinement of the groups (tiling [0, count)) and the tensor pieces.
    static func spans(groups: [ParameterGroup], tensors: TensorPieces?, count: Int) -> [OptimizerSpan] {
        var cuts = Set(groups.flatMap { [$0.range.lowerBound, $0.range.upperBound] })
        for p in tensors?.pieces ?? [] { cuts.insert(p.range.lowerBound); cuts.insert(p.range.upperBound) }
        cuts.insert(0)
        cuts.insert(count)
        let sorted = cuts.filter { $0 >= 0 && $0 <= count }.sorted()
        var spans: [OptimizerSpan] = []
        var g = 0, t = 0
        let pieces = tensors?.pieces ?? []
        for (lo, hi) in zip(sorted, sorted.dropFirst()) where lo < hi {
            while groups[g].range.upperBound <= lo { g += 1 }
            while t < pieces.count && pieces[t].range.upperBound <= lo { t += 1 }
            let tensor = t < pieces.count && pieces[t].range.contains(lo) ? pieces[t].tensor : -1
            spans.append(OptimizerSpan(range: lo..<hi, group: g, tensor: tensor))
        }
        return spans
    }
}

import Foundation

/// Which model a checkpoint holds, as data: a family code, the integers of its shape and its
/// parameter count; enough to tell a run of another model apart. The model's own code says what
/// the numbers mean (`words`, `flags`); this format only stores and compares them.
///
/// The header keeps the code and the shape as they are, except for `customCode`, whose first
/// two stored values carry the parameter count (high and low 24 bits, +1): any model may use it
/// (a library user's own does by default); the other codes have the count in the header's
/// `parameterCount` field.
public struct ModelSignature: Sendable, Equatable, CustomStringConvertible {
    /// The model family's number in the header (codes `0..<codeCount`).
    public var code: UInt32
    /// Up to 64 integers in 1...2^24 that tell the family's shapes apart (its layer widths, ...).
    public var shape: [Int]
    public var parameterCount: Int
    /// How the description reads: `{i}` is shape[i], `{-}` the shape joined by "-", `{n}` the
    /// parameter count, `{shape}` the shape as a list. Not compared.
    public var words: String
    /// The flags (or the setting) that choose the shape, for mismatch messages. Not compared.
    public var flags: String

    public init(code: UInt32, shape: [Int], parameterCount: Int, words: String, flags: String) {
        self.code = code
        self.shape = shape
        self.parameterCount = parameterCount
        self.words = words
        self.flags = flags
    }

    /// The code whose parameter count travels in the stored shape; the codes this format defines.
    public static let customCode: UInt32 = 2
    static let codeCount: UInt32 = 3

    /// A library user's model: its parameter count and up to 64 integers of its choosing (each
    /// in 1...2^24) that tell its shapes apart, e.g. `[tensorCount]` or its layer widths.
    public static func custom(parameterCount: Int, shape: [Int]) -> ModelSignature {
        ModelSignature(code: customCode, shape: shape, parameterCount: parameterCount,
                       words: "custom model of {n} parameters, shape {shape}", flags: "model (its signature)")
    }

    public static func == (a: ModelSignature, b: ModelSignature) -> Bool {
        a.code == b.code && a.shape == b.shape && a.parameterCount == b.parameterCount
    }

    /// 2^24: the custom parameter count is stored as two dimensions, high and low 24 bits (+1).
    static let customSplit = 1 << 24

    /// The dimensions the header stores after the code.
    var dims: [Int] {
        code == Self.customCode ? [parameterCount / Self.customSplit + 1, parameterCount % Self.customSplit + 1] + shape : shape
    }

    /// Throws when a checkpoint header cannot hold this signature (a code this format does not
    /// define, more than 64 shape integers or one outside 1...2^24, a parameter count outside 1..<2^48).
    public func validate() throws {
        guard code < Self.codeCount else {
            throw CheckpointError(.badHeader, "model signature: code \(code) must be below \(Self.codeCount)")
        }
        guard parameterCount > 0, parameterCount / Self.customSplit < Self.customSplit - 1 else {
            throw CheckpointError(.badHeader, "model signature: parameter count \(parameterCount) must be in 1..<2^48")
        }
        let room = CheckpointHeader.maxModelDims - (code == Self.customCode ? 2 : 0)
        guard (code == Self.customCode ? 0 : 2)...room ~= shape.count,
              shape.allSatisfy({ (1...CheckpointHeader.maxWidth).contains($0) }) else {
            throw CheckpointError(.badHeader, "model signature: shape \(shape) must be at most \(room) integers in 1...\(CheckpointHeader.maxWidth)")
        }
    }

    /// The signature from a header's code, dimensions and parameter count, nil when they do
    /// not fit together. Its words are generic; `described(like:)` gives it a run's.
    static func decode(code: UInt32, dims: [Int], parameterCount: Int) -> ModelSignature? {
        guard code < codeCount else { return nil }
        guard code == customCode else {
            return ModelSignature(code: code, shape: dims, parameterCount: parameterCount,
                                  words: "another model (code \(code), shape {-}, {n} parameters)", flags: "model shape")
        }
        return .custom(parameterCount: (dims[0] - 1) * customSplit + dims[1] - 1, shape: Array(dims[2...]))
    }

    /// This signature in the words of `other` when both are of one family (a checkpoint's model
    /// named the way the run names its own).
    public func described(like other: ModelSignature) -> ModelSignature {
        guard code == other.code else { return self }
        var s = self
        (s.words, s.flags) = (other.words, other.flags)
        return s
    }

    /// `words` filled in: "net {-}" with the shape [4, 8, 2] reads "net 4-8-2".
    public var description: String {
        var text = words.replacingOccurrences(of: "{-}", with: shape.map(String.init).joined(separator: "-"))
            .replacingOccurrences(of: "{shape}", with: "\(shape)").replacingOccurrences(of: "{n}", with: "\(parameterCount)")
        for (i, v) in shape.enumerated().reversed() { text = text.replacingOccurrences(of: "{\(i)}", with: "\(v)") }
        return text
    }
}

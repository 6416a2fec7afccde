import DeterministicRandom
import Foundation
import Model

/// Generates characters from a trained GPT, one process: softmax over the next token's logits
/// at a temperature, optionally restricted to the `topK` most likely, sampled from a seeded
/// generator (the same seed gives the same text). The context is the last `blockSize` tokens.
public struct TextGenerator {
    public let model: GPT
    public let params: [Float]
    private let workspace: GPTWorkspace

    public init(model: GPT, params: [Float]) {
        precondition(params.count >= model.parameterCount, "\(params.count) parameters for a model of \(model.parameterCount)")
        self.model = model
        self.params = params
        workspace = GPTWorkspace(model: model, maxBatch: 1)
    }

    /// `count` new tokens after `prompt` (which must hold at least one token), each also
    /// handed to `emit` as soon as it is drawn (`lion-dist sample` prints it then).
    /// `temperature` > 0; `topK` nil or 0 keeps every token.
    public func generate(prompt: [UInt16], count: Int, temperature: Float, topK: Int?, seed: UInt64,
                         emit: (UInt16) -> Void = { _ in }) -> [UInt16] {
        precondition(!prompt.isEmpty && temperature > 0)
        var rng = SplitMix64(seed: seed)
        var tokens = prompt
        var logits = [Float](repeating: 0, count: model.config.vocabSize)
        let block = model.config.blockSize
        for _ in 0..<count {
            let context = Array(tokens.suffix(block))
            // The arrays are passed as pointers for the call only (the model reads params and
            // context, writes vocabSize logits).
            model.nextTokenLogits(params: params, context: context, count: context.count, workspace: workspace, into: &logits)
            tokens.append(UInt16(Self.sample(logits, temperature: temperature, topK: topK, rng: &rng)))
            emit(tokens.last!)
        }
        return Array(tokens.dropFirst(prompt.count))
    }

    /// Index drawn from softmax(logits / temperature) over the top-k logits (ties at the k-th
    /// value kept), in Double.
    static func sample(_ logits: [Float], temperature: Float, topK: Int?, rng: inout SplitMix64) -> Int {
        var floor = -Float.infinity
        if let k = topK, k > 0, k < logits.count { floor = logits.sorted(by: >)[k - 1] }
        let m = Double(logits.max()!)
        var weights = logits.map { $0 >= floor ? exp((Double($0) - m) / Double(temperature)) : 0 }
        let total = weights.reduce(0, +)
        var u = rng.nextUnit() * total
        for i in weights.indices {
            u -= weights[i]
            if u < 0 { return i }
        }
        weights.removeAll()
        return logits.indices.last { logits[$0] >= floor }!
    }
}

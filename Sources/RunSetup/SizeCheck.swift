import Basics
import FashionData
import Sharding
import TextData
import Training

/// Sizes derived from flags (parameters, activations, batches, steps, plan figures), computed
/// once with overflow checks before anything else computes them without: a size that does not
/// fit in 64 bits is one line naming the flags it came from, never a trap. The figures are the
/// ones the run and `lion-dist plan` use (the layout's padding, the workspaces' formulas), each
/// with a factor of 8 to spare, so that no later sum of them can overflow either.
enum SizeCheck {
    /// Thrown by `mul` and `add`; `figure` turns it into the line.
    struct Overflow: Error {}

    static func mul(_ xs: Int...) throws -> Int {
        try xs.reduce(1) { let (p, o) = $0.multipliedReportingOverflow(by: $1); if o { throw Overflow() }; return p }
    }

    static func add(_ xs: Int...) throws -> Int {
        try xs.reduce(0) { let (s, o) = $0.addingReportingOverflow($1); if o { throw Overflow() }; return s }
    }

    /// `body`'s value (checked to fit 8 times over), or the line "FLAGS: WHAT is beyond 64-bit
    /// arithmetic ...; use smaller values".
    @discardableResult
    static func figure(_ what: String, flags: String, _ body: () throws -> Int) throws -> Int {
        do { let v = try body(); _ = try mul(v, 8); return v } catch is Overflow {
            throw TrainingError("\(flags): \(what) is beyond 64-bit arithmetic (9.2e18, with a factor of 8 to spare); use smaller values")
        }
    }
}

extension RunConfig {
    /// Every size this run derives from its flags, checked at `worldSize` ranks, up to
    /// `ranksPerNode` per node (the plan's node total). Throws one line naming the flags.
    public func checkSizes(worldSize: Int, ranksPerNode: Int) throws {
        typealias S = SizeCheck
        let w = "--ranks \(worldSize)"
        let batch = "--batch-size \(train.globalBatch)"
        let local = max(1, train.globalBatch / max(worldSize, 1))
        let params: Int, activations: Int
        let pixels = 28 * 28, testImages = 10_000
        switch model {
        case .mlp:
            let widths = [pixels] + hidden + [FashionMNIST.classes]
            let flag = "--hidden \(hidden.map(String.init).joined(separator: ","))"
            params = try S.figure("the MLP's parameter count", flags: flag) {
                try zip(widths, widths.dropFirst()).reduce(0) { try S.add($0, S.mul($1.0, $1.1), $1.1) }
            }
            // MLPWorkspace.bytes at the training slice or the evaluation share, and the batch buffer.
            let rows = max(local, testImages / max(worldSize, 1) + 1)
            activations = try S.figure("the activation bytes", flags: "\(flag) \(batch)") {
                try S.mul(4, rows, S.add(widths.dropFirst().reduce(0, +), S.mul(2, widths.max()!), pixels))
            }
            let stepsPerEpoch = FashionMNIST.trainCount / max(train.globalBatch, 1)
            try S.figure("the run's sample count", flags: "--epochs \(epochs) \(batch)") {
                try S.mul(epochs, max(stepsPerEpoch, 1), train.globalBatch)
            }
        case .gpt:
            let (V, T, C, L, NH) = (ShakespeareCorpus.expectedCharacters, gpt.blockSize, gpt.nEmbd, gpt.nLayer, gpt.nHead)
            let shape = "--n-layer \(L) --n-embd \(C) --block-size \(T)"
            params = try S.figure("the GPT's parameter count", flags: shape) {
                try S.add(S.mul(V, C), S.mul(T, C), S.mul(L, S.add(S.mul(12, C, C), S.mul(2, C))), C)
            }
            // GPTWorkspace.bytes (the attention term at every layer, as its blocks allocate it) and the tokens.
            activations = try S.figure("the activation bytes", flags: "\(shape) --n-head \(NH) \(batch)") {
                let rowTerm = try S.mul(local, T, S.add(S.mul(L, S.add(S.mul(10, C), 4)), S.mul(16, C), V, 2))
                return try S.mul(4, S.add(rowTerm, S.mul(L + 1, local, NH, T, T), S.mul(local, T + 1)))
            }
            try S.figure("the validation token count", flags: "--eval-batches \(evalBatches) \(batch) --block-size \(T)") {
                try S.mul(evalBatches, train.globalBatch, T + 1)
            }
            try S.figure("the run's token count", flags: "--steps \(steps) \(batch) --block-size \(T)") {
                _ = try S.add(steps, evalInterval)
                return try S.mul(steps, train.globalBatch, T)
            }
        }
        // ShardLayout's padding, the full-size buffers (P, G, two state buffers, copies), and the
        // plan's totals per rank and per node.
        let paddedBytes = try S.figure("the parameter buffers' bytes", flags: "\(w) with \(params) parameters") {
            let shard = try S.add(params / max(worldSize, 1), ShardLayout.alignment + 1)
            return try S.mul(shard, max(worldSize, 1), 4, 8)   // 8 full-size buffers at most
        }
        try S.figure("the plan's bytes per node", flags: "\(w) \(batch)") {
            try S.mul(S.add(paddedBytes, activations, 64 << 20), max(ranksPerNode, 1))
        }
        try S.figure("the bucket size in floats", flags: "--bucket-mb \(train.bucketMB)") {
            guard train.bucketMB * 262_144 < 1e18 else { throw SizeCheck.Overflow() }
            return train.bucketElements
        }
    }
}

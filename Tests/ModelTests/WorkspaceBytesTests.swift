import XCTest
@testable import Model

/// `lion-dist plan` sizes workspaces without allocating them: the GPT's static formula must
/// equal what a real workspace holds, shape by shape (the MLP's: `WorkspaceTests`).
final class WorkspaceBytesTests: XCTestCase {
    func testGPTFormulaMatchesTheAllocation() {
        for (l, h, c, t, b) in [(4, 4, 128, 64, 12), (1, 1, 16, 8, 1), (2, 3, 48, 17, 5)] {
            let model = GPT(config: GPTConfig(vocabSize: 84, blockSize: t, nLayer: l, nHead: h, nEmbd: c))
            let real = GPTWorkspace(model: model, maxBatch: b).bytes
            XCTAssertEqual(GPTWorkspace.bytes(model: model, maxBatch: b), real, "L\(l) H\(h) C\(c) T\(t) B\(b)")
        }
    }

    /// In bf16 the same with the operand buffers, and the copy of the parameters when private
    /// (2 bytes each); one held elsewhere (node-shared) is not the workspace's.
    func testGPTBF16FormulaMatchesTheAllocationWithPrivateAndHeldWeights() {
        for (l, h, c, t, b) in [(2, 2, 32, 16, 3), (1, 1, 16, 8, 1)] {
            let model = GPT(config: GPTConfig(vocabSize: 84, blockSize: t, nLayer: l, nHead: h, nEmbd: c))
            let own = GPTWorkspace(model: model, maxBatch: b, dtype: .bf16).bytes
            XCTAssertEqual(GPTWorkspace.bytes(model: model, maxBatch: b, dtype: .bf16), own)
            let copy = BF16Weights(count: model.parameterCount)
            let held = BF16Weights(holding: copy.pointer, count: copy.count, owner: copy)
            let shared = GPTWorkspace(model: model, maxBatch: b, dtype: .bf16, bf16Weights: held).bytes
            XCTAssertEqual(GPTWorkspace.bytes(model: model, maxBatch: b, dtype: .bf16, privateWeights: false), shared)
            XCTAssertEqual(own - shared, 2 * model.parameterCount)
        }
    }

    /// The attention keeps no (T, T) matrix: at T >= its tile, a workspace grows linearly in T
    /// (at the --block-size 1024 shape; the formula, since it equals the allocation), from a
    /// constant per thread (the transposed (hs, tile) key or value tile).
    func testGPTWorkspaceIsLinearInT() {
        func bytes(_ t: Int) -> Int {
            GPTWorkspace.bytes(model: GPT(config: GPTConfig(vocabSize: 65, blockSize: t, nLayer: 6, nHead: 6, nEmbd: 384)),
                               maxBatch: 12, threads: 2)
        }
        let perBlock = bytes(128) - bytes(64)   // bytes per 64 positions
        XCTAssertEqual(bytes(2048) - bytes(1024), 16 * perBlock)
        XCTAssertEqual(bytes(1024) - bytes(64), 15 * perBlock)
        XCTAssertEqual(bytes(64) - perBlock, 2 * 4 * 64 * 64, "the constant: 2 threads' (hs 64, 64) tiles")
    }

    /// bf16 keeps the product operands (qkv, atty, fc per block; ln, gelu, lnf) in 2 bytes, one
    /// residualMid for all blocks (recomputed in backward), and no narrowed copies of fp32 inputs;
    /// its attention slot holds a bf16 (T, tile) tile and the item's fp32 output (T, hs) in place of
    /// the transposed (hs, tile) tile. At the 85M GPT, one sequence, one thread: 44.9 MiB less than
    /// fp32 (the formula equals the allocation).
    func testBF16ActivationsSaveTwoBytesPerOperand() {
        let (T, C, L, hs) = (256, 768, 12, 64)
        let model = GPT(config: GPTConfig(vocabSize: 84, blockSize: T, nLayer: L, nHead: 12, nEmbd: C))
        let fp32 = GPTWorkspace.bytes(model: model, maxBatch: 1, threads: 1)
        let bf16 = GPTWorkspace.bytes(model: model, maxBatch: 1, dtype: .bf16, threads: 1, privateWeights: false)
        XCTAssertEqual(fp32 - bf16, 2 * T * (8 * L * C + 6 * C) + 4 * T * (L - 1) * C - 2 * T * 4 * C - (2 * T * 64 + 4 * T * hs - 4 * hs * 64))
        print("85M GPT, 1 sequence: workspace fp32 \(fp32 >> 20) MiB, bf16 \(bf16 >> 20) MiB")
    }
}

import Checkpoint
import Foundation
import LionEngine

/// Builds checkpoint files serially, without MPI: the reference the MPI writer must match.
enum Fixtures {
    static func identity(hidden: [Int] = [5], optimizer: OptimizerKind = .lion) -> CheckpointIdentity {
        CheckpointIdentity(model: mlp(hidden), optimizer: .defaults(for: optimizer),
                           schedule: .cosine, warmupSteps: 10, totalSteps: 300, minLR: 0, clipNorm: 0,
                           globalBatch: 64, seed: 7)
    }

    /// An MLP 784-hidden-10 as its workload signs it (family code 0, the layer widths).
    static func mlp(_ hidden: [Int]) -> ModelSignature {
        let sizes = [784] + hidden + [10]
        let count = zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
        return ModelSignature(code: 0, shape: sizes, parameterCount: count, words: "MLP {-}", flags: "--hidden")
    }

    static func position(step: Int) -> CheckpointPosition {
        CheckpointPosition(step: step, epoch: 0, stepInEpoch: step, optimizerStep: step, skippedSteps: 0,
                           epochLossSum: 1.5 * Double(step), epochSteps: step)
    }

    /// Header and file bytes for `identity` with deterministic parameter and state values.
    static func image(_ identity: CheckpointIdentity, step: Int, blockSize: Int? = nil) -> (CheckpointHeader, [UInt8]) {
        let n = identity.parameterCount!
        let floats = n * (1 + identity.optimizer.stateBuffers * (identity.perRankState ? 3 : 1))   // written by 3 ranks
        var data = [UInt8]()
        data.reserveCapacity(floats * 4)
        for i in 0..<floats {
            let v = Float(i % 1013) * 0.001 - 0.5 + Float(step)
            withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 }
        }
        let size = blockSize ?? CheckpointHeader.blockSize(forDataBytes: data.count)
        let crcs = stride(from: 0, to: data.count, by: size).map { Checksums.crc32(Array(data[$0..<min($0 + size, data.count)])) }
        let header = CheckpointHeader(identity: identity, position: position(step: step), writerWorldSize: 3,
                                      parameterCount: n, blockSize: size, blockCRCs: crcs)
        var file = header.encode()
        file += [UInt8](repeating: 0, count: header.dataOffset - file.count)
        file += data
        return (header, file)
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

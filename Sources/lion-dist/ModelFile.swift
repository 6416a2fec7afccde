import ArgumentParser
import Checkpoint
import Foundation
import Safetensors
import Training
import Workloads

/// The parameters of a model file for `sample` and `export`: a checkpoint (ckpt-<step>.lion,
/// every checksum verified first), a `--checkpoint` directory (its newest valid checkpoint), or
/// a safetensors file under PyTorch's names (its `__metadata__` names the model).
struct ModelFile {
    let path: String
    let signature: ModelSignature
    let step: Int
    /// The model's values, unpadded.
    let params: [Float]
    /// The characters a safetensors file says the model was trained on (nil: a checkpoint, or unsaid).
    let vocabulary: String?

    init(_ given: String) throws {
        path = try Self.resolve(given)
        if SafetensorsFile.looksLike(path: path) {
            do {
                let file = try SafetensorsFile(path: path)
                signature = try PyTorchStateDict.signature(of: file)
                params = try PyTorchStateDict(signature: signature).load(file, vocabulary: nil)
                step = file.metadata["step"].flatMap { Int($0) } ?? 0
                vocabulary = file.metadata["vocab"]
            } catch let e as SafetensorsError { throw ValidationError("--checkpoint \(e.description)") }
            return
        }
        let file = try LocalCheckpointFile(path: path)
        let header = try CheckpointVerifier.fullCheck(file).header   // every checksum, before any use
        let bytes = try file.read(offset: header.dataOffset, count: header.parameterCount * 4)
        params = bytes.withUnsafeBytes { raw in
            (0..<header.parameterCount).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        signature = header.identity.model
        step = header.position.step
        vocabulary = nil
    }

    /// A file as is; a directory: its newest checkpoint that passes every check.
    static func resolve(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("--checkpoint \(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return path }
        guard let newest = CheckpointDirectory(path: path).newestValid() else {
            throw ValidationError("--checkpoint \(path): no valid ckpt-*.lion checkpoint in this directory")
        }
        return newest
    }
}

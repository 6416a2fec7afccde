import ArgumentParser
import Foundation
import Safetensors
import TextData
import Training
import Workloads

/// `lion-dist export --checkpoint FILE|DIR -o model.safetensors`: the parameters under PyTorch's
/// names (nanoGPT's for the GPT, nn.Sequential's for the MLP) with the model's shape, the
/// vocabulary and the step as metadata. One process, no MPI; the optimizer state stays behind.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's parameters as a safetensors file with PyTorch's names (nanoGPT's for the GPT); one process.")

    enum Format: String, ExpressibleByArgument { case safetensors }
    enum DType: String, ExpressibleByArgument { case fp32, bf16 }

    @Option(help: "A checkpoint file (ckpt-<step>.lion) or a --checkpoint directory (its newest valid checkpoint).")
    var checkpoint: String

    @Option(help: "Output format: safetensors.")
    var format: Format = .safetensors

    @Option(help: "Tensor dtype: fp32 (exact) or bf16 (rounded to nearest even).")
    var dtype: DType = .fp32

    @Option(name: [.short, .customLong("output")], help: "The file to write (e.g. model.safetensors).")
    var output: String

    @Option(help: "Directory holding shakespeare.txt (a GPT's vocabulary, written as metadata); default: where launch/setup puts it.")
    var dataDir: String = ShakespeareCorpus.defaultDirectory

    func run() throws {
        let loaded = try ModelFile(checkpoint)
        let names: PyTorchStateDict
        do { names = try PyTorchStateDict(signature: loaded.signature) } catch let e as SafetensorsError { throw ValidationError(e.description) }
        var vocabulary: [UInt8]? = nil
        if case let .gpt(vocab, _, _, _, _)? = BuiltinModel(loaded.signature) {
            let corpus = try ShakespeareCorpus.load(directory: dataDir)
            guard corpus.vocabularySize == vocab else {
                throw ValidationError("\(loaded.path) has a vocabulary of \(vocab) characters, \(corpus.path) has \(corpus.vocabularySize); pass the --data-dir it was trained on")
            }
            vocabulary = corpus.characters.symbols
        }
        let data = try names.encode(loaded.params, dtype: dtype == .fp32 ? .f32 : .bf16, vocabulary: vocabulary, step: loaded.step)
        do { try data.write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw ValidationError("-o \(output): cannot write (\(error.localizedDescription)); check the directory")
        }
        print("exported \(loaded.path) (\(loaded.signature.named.description), step \(loaded.step)) to \(output): \(names.tensors.count) tensors \(dtype.rawValue), \(data.count) bytes")
    }
}

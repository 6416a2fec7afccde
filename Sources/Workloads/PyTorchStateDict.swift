import Basics
import Checkpoint
import Foundation
import Model
import Safetensors
import Training

/// A model's parameters under PyTorch's names, for safetensors files: nanoGPT's `state_dict` for
/// the GPT (`transformer.wte.weight`, `transformer.h.{i}.attn.c_attn.weight` [3C, C] q,k,v, ...,
/// and `lm_head.weight`, a copy of the tied wte, so `load_state_dict` of nanoGPT's
/// `GPT(bias=False)` finds every key), `nn.Sequential`'s for the MLP (`0.weight`, `0.bias`,
/// `2.weight`, ...: Linear layers at the even indices, ReLU between them). The layouts are the
/// flat buffer's own (row-major [out, in] weights), so no tensor is transposed.
public struct PyTorchStateDict {
    public struct Tensor: Equatable {
        public let name: String
        public let range: Range<Int>
        public let shape: [Int]
    }

    public let signature: ModelSignature
    /// Buffer order; for the GPT `lm_head.weight` (wte's range again) last.
    public let tensors: [Tensor]
    public let parameterCount: Int
    public static let lmHead = "lm_head.weight"
    static let wte = "transformer.wte.weight"

    public init(signature: ModelSignature) throws {
        self.signature = signature
        switch BuiltinModel(signature) {
        case let .gpt(vocab, blockSize, layers, heads, width)?:
            let model = GPT(config: GPTConfig(vocabSize: vocab, blockSize: blockSize, nLayer: layers, nHead: heads, nEmbd: width))
            var list = model.tensors.map { t in
                Tensor(name: t.shape.count == 2 && !t.name.hasPrefix("h.") ? "transformer.\(t.name).weight" : "transformer.\(t.name)",
                       range: t.range, shape: t.shape)
            }
            list.append(Tensor(name: Self.lmHead, range: list[0].range, shape: list[0].shape))
            tensors = list
            parameterCount = model.parameterCount
        case let .mlp(inputs, hidden, classes)?:
            let model = MLP(inputs: inputs, hidden: hidden, classes: classes)
            tensors = model.layers.enumerated().flatMap { l, layer in
                [Tensor(name: "\(2 * l).weight", range: layer.weightOffset..<(layer.weightOffset + layer.weightCount), shape: [layer.outputs, layer.inputs]),
                 Tensor(name: "\(2 * l).bias", range: layer.biasOffset..<(layer.biasOffset + layer.outputs), shape: [layer.outputs])]
            }
            parameterCount = model.parameterCount
        case nil:
            throw SafetensorsError("safetensors export and --init-from handle the GPT and the MLP, not a library user's own model")
        }
    }

    /// The model's shape, its vocabulary (the GPT's characters in token order) and the step, as
    /// the file's `__metadata__`.
    public func metadata(vocabulary: [UInt8]?, step: Int) -> [String: String] {
        var m = ["format": "pt", "step": "\(step)"]
        switch BuiltinModel(signature) {
        case let .gpt(vocab, blockSize, layers, heads, width)?:
            m["model"] = "gpt"
            m["vocab_size"] = "\(vocab)"
            m["block_size"] = "\(blockSize)"
            m["n_layer"] = "\(layers)"
            m["n_head"] = "\(heads)"
            m["n_embd"] = "\(width)"
            m["bias"] = "false"
            if let vocabulary { m["vocab"] = String(decoding: vocabulary, as: UTF8.self) }
        case let .mlp(inputs, hidden, classes)?:
            m["model"] = "mlp"
            m["sizes"] = ([inputs] + hidden + [classes]).map(String.init).joined(separator: "-")
        case nil:
            break
        }
        return m
    }

    /// The safetensors file of `params` (the model's values, unpadded).
    public func encode(_ params: [Float], dtype: Safetensors.DType, vocabulary: [UInt8]?, step: Int) throws -> Data {
        precondition(params.count >= parameterCount)
        let list = tensors.map { Safetensors.Tensor(name: $0.name, shape: $0.shape, values: params[$0.range]) }
        return try Safetensors.encode(list, dtype: dtype, metadata: metadata(vocabulary: vocabulary, step: step))
    }

    /// The flat parameters in `file`. Refuses, in one line naming the first tensor that does not fit
    /// (buffer order), a missing tensor, another shape, a name this model lacks, an lm_head.weight
    /// that is not wte's values (lion-dist ties them), and a vocabulary other than `vocabulary`.
    public func load(_ file: SafetensorsFile, vocabulary: [UInt8]?) throws -> [Float] {
        func refuse(_ why: String) -> SafetensorsError { SafetensorsError("\(file.path): \(why)") }
        let fix = signature.isGPT ? "pass the --n-layer, --n-head, --n-embd and --block-size it was trained with" : "pass the --hidden widths it was trained with"
        if let vocabulary, let theirs = file.metadata["vocab"], Array(theirs.utf8) != vocabulary {
            throw refuse("its vocabulary (\(theirs.utf8.count) characters) is not this corpus's \(vocabulary.count) characters in the same order; pass the --data-dir it was trained on")
        }
        var params = [Float](repeating: 0, count: parameterCount)
        var wte: [Float] = []
        for t in tensors {
            guard let e = file.entry(t.name) else {
                if t.name == Self.lmHead { continue }
                throw refuse("no tensor \(t.name) (shape \(t.shape)); this is not a \(signature.named) under PyTorch's names, or \(fix)")
            }
            guard e.shape == t.shape else {
                throw refuse("tensor \(t.name) has shape \(e.shape), this model's is \(t.shape) (\(signature.named)); \(fix)")
            }
            let values = file.floats(e)
            if t.name == Self.lmHead {
                guard values == wte else {
                    throw refuse("tensor \(t.name) differs from \(Self.wte); lion-dist ties the output layer to the token embedding: write wte's values for both, or drop lm_head.weight")
                }
                continue
            }
            if t.name == Self.wte { wte = values }
            params.replaceSubrange(t.range, with: values)
        }
        let known = Set(tensors.map(\.name))
        if let extra = file.entries.first(where: { !known.contains($0.name) }) {
            throw refuse("tensor \(extra.name) is not one of this model's (\(signature.named)); \(fix)")
        }
        return params
    }

    /// The model a file describes by its `__metadata__` (as `export` writes it).
    public static func signature(of file: SafetensorsFile) throws -> ModelSignature {
        let m = file.metadata
        func int(_ key: String) throws -> Int {
            guard let v = m[key].flatMap({ Int($0) }), v > 0 else {
                throw SafetensorsError("\(file.path): __metadata__ has no positive integer \(key); it names the model's shape (lion-dist export writes it)")
            }
            return v
        }
        switch m["model"] {
        case "gpt":
            let (v, t, l, h, c) = (try int("vocab_size"), try int("block_size"), try int("n_layer"), try int("n_head"), try int("n_embd"))
            if let problem = GPTConfig(vocabSize: v, blockSize: t, nLayer: l, nHead: h, nEmbd: c).problem {
                throw SafetensorsError("\(file.path): __metadata__ describes no valid GPT: \(problem)")
            }
            return BuiltinModel.gpt(vocab: v, blockSize: t, layers: l, heads: h, width: c).signature
        case "mlp":
            let sizes = (m["sizes"] ?? "").split(separator: "-").compactMap { Int($0) }
            guard sizes.count >= 2, sizes.allSatisfy({ $0 > 0 }) else {
                throw SafetensorsError("\(file.path): __metadata__ sizes must be the layer widths like 784-1024-512-10, got '\(m["sizes"] ?? "")'")
            }
            return BuiltinModel.mlp(inputs: sizes[0], hidden: Array(sizes[1..<sizes.count - 1]), classes: sizes[sizes.count - 1]).signature
        default:
            throw SafetensorsError("\(file.path): __metadata__ model is '\(m["model"] ?? "")', expected gpt or mlp (lion-dist export writes it)")
        }
    }
}

extension PyTorchStateDict {
    /// `--init-from`: the flat parameters of the safetensors file at `path` for the model
    /// `signature` names (and, for the GPT, its corpus's `vocabulary`).
    static func initialWeights(_ path: String, signature: ModelSignature, vocabulary: [UInt8]?) throws -> [Float] {
        do {
            return try PyTorchStateDict(signature: signature).load(try SafetensorsFile(path: path), vocabulary: vocabulary)
        } catch let e as SafetensorsError {
            throw TrainingError("--init-from \(e.description)")
        }
    }
}

extension ModelSignature {
    var isGPT: Bool { if case .gpt? = BuiltinModel(self) { return true } else { return false } }
}

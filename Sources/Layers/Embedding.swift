import Basics
import Model

/// Token plus learned position embedding (GPT-2's wte and wpe, the GPT's kernels): a sample of
/// T token ids (exact integers in 0..<vocabulary, as Float) becomes (T, width) with
/// out[t] = wte[token t] + wpe[t], T <= positions. Must be a model's first layer (token ids
/// have no gradient). Initialization: N(0, 0.02), as GPT-2.
public final class Embedding: Layer {
    public let vocabulary: Int, width: Int, positions: Int
    public private(set) var tokenTable: ParameterTensor?, positionTable: ParameterTensor?
    private var out: ActivationTensor!
    private var tokens = AlignedBuffer<UInt16>(count: 0)
    private var batch = 0, length = 0

    public init(vocabulary: Int, width: Int, positions: Int) {
        precondition(vocabulary >= 1 && vocabulary <= 65536 && width >= 1 && positions >= 1,
                     "Embedding(vocabulary: \(vocabulary), width: \(width), positions: \(positions)): vocabulary in 1...65536, sizes >= 1")
        self.vocabulary = vocabulary
        self.width = width
        self.positions = positions
    }

    public var differentiableInput: Bool { false }

    public func declare(_ parameters: inout LayerParameters) {
        tokenTable = parameters.add("wte", shape: [vocabulary, width], decays: true)
        positionTable = parameters.add("wpe", shape: [positions, width], decays: true)
    }

    public func outputShape(input: [Int]) throws -> [Int] {
        guard input.count == 1, input[0] >= 1, input[0] <= positions else {
            throw LayerError("Embedding takes samples of 1...\(positions) token ids (shape [T]), got shape \(input)")
        }
        return [input[0], width]
    }

    public func allocate(_ plan: ActivationPlan, input: [Int]) {
        out = ActivationTensor(maxBatch: plan.maxBatch, sampleShape: [input[0], width])
        tokens = AlignedBuffer(count: plan.maxBatch * input[0])
    }

    public func initialize(_ params: ParameterValues, seed: UInt64) {
        var gauss = BoxMuller(seed: seed)
        for t in [tokenTable!, positionTable!] {
            let v = params[t]
            for k in 0..<v.count { v[k] = Float(0.02 * gauss.next()) }
        }
    }

    public func forward(_ x: TensorView, params: ParameterValues) -> TensorView {
        (batch, length) = (x.shape[0], x.shape[1])
        for k in 0..<x.count {
            let v = x[k]
            precondition(v >= 0 && v < Float(vocabulary) && v == v.rounded(), "token id \(v) not an integer in 0..<\(vocabulary)")
            tokens.pointer[k] = UInt16(v)
        }
        let y = out.view(batch: batch)
        embeddingForward(out: y.base, tokens: tokens.pointer, stride: length, wte: params[tokenTable!].base,
                         wpe: params[positionTable!].base, B: batch, T: length, C: width, V: vocabulary)
        return y
    }

    public func backward(_ dout: TensorView, params: ParameterValues, grads: GradientSink, inputGradient: Bool) -> TensorView? {
        let dwte = grads[tokenTable!], dwpe = grads[positionTable!]
        dwte.fill(0)   // the kernel adds to it (the GPT's tied head wrote it first)
        dwpe.fill(0)   // it overwrites the first `length` rows only
        embeddingBackward(dwte: dwte.base, dwpe: dwpe.base, dout: dout.base, tokens: tokens.pointer, stride: length,
                          B: batch, T: length, C: width)
        return nil
    }
}

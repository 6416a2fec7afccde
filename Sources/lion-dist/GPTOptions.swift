import ArgumentParser
import Model
import RunSetup
import Training

extension ComputeDTypeChoice: ExpressibleByArgument {}

/// The GPT's shape and the precision of its products (`--model gpt`, `bench gpt`); nanoGPT's
/// CPU "baby GPT" by default.
struct GPTShapeOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Transformer blocks.")
    var nLayer: Int = 4

    @Option(parsing: .unconditional, help: "Attention heads per block (--n-embd must be a multiple).")
    var nHead: Int = 4

    @Option(parsing: .unconditional, help: "Width of the residual stream.")
    var nEmbd: Int = 128

    @Option(parsing: .unconditional, help: "Context length in characters.")
    var blockSize: Int = 64

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Precision of the matrix products: fp32 (OpenBLAS), bf16 (oneDNN, bf16 inputs with fp32 accumulation; needs a CPU with AVX512-BF16 or AMX), or auto: bf16 where this CPU has native bf16 and oneDNN's bf16 products measure at least 1.25x fp32 sgemm's rate at start, fp32 elsewhere (the run says which and why).",
        discussion: "Parameters, optimizer state, gradients, norms, softmax, GELU, the loss and checkpoints stay fp32 either way, so a run resumes in either dtype."))
    var computeDtype: ComputeDTypeChoice = .auto

    var shape: GPTShape {
        var s = GPTShape()
        s.nLayer = nLayer
        s.nHead = nHead
        s.nEmbd = nEmbd
        s.blockSize = blockSize
        return s
    }

    func validate() throws {
        if computeDtype == .bf16, let reason = BF16Support.refusalReason() { throw ValidationError(reason) }
    }
}

/// The GPT's shape, budget and evaluation (`--model gpt`).
struct GPTOptions: ParsableArguments {
    @OptionGroup var model: GPTShapeOptions

    var shape: GPTShape { model.shape }
    var computeDtype: ComputeDTypeChoice { model.computeDtype }

    @Option(parsing: .unconditional, help: "Optimizer steps in all (the GPT has no epochs; --max-steps cuts it further).")
    var steps: Int = 2000

    @Option(parsing: .unconditional, help: "Steps between validation-loss evaluations.")
    var evalInterval: Int = 250

    @Option(parsing: .unconditional, help: "Validation windows per evaluation, in global batches (20 x batch 12 = 240 windows).")
    var evalBatches: Int = 20

    func validate() throws {
        if steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if evalInterval < 1 { throw ValidationError("--eval-interval must be at least 1, got \(evalInterval)") }
        if evalBatches < 1 { throw ValidationError("--eval-batches must be at least 1, got \(evalBatches)") }
    }
}


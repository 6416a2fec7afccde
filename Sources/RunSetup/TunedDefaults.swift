import FashionData
import LionEngine
import TextData

/// The defaults `train` uses for each workload and optimizer, where the paper's generic ones
/// (`OptimizerConfig.defaults`) do not fit (docs/training.md, the defaults table; docs/gpt.md).
///
/// - MLP: Lion lr 3e-4, wd 0.1; AdamW lr 3e-3, wd 0.01 (Lion's lr 10x lower, its wd 10x higher).
/// - GPT: the paper's language-model settings. Lion betas 0.95/0.98, lr 3e-4, wd 1 (matrices
///   only); AdamW betas 0.9/0.99, eps 1e-8 (PyTorch's and nanoGPT's; 1e-6 ended 0.003 nats/char
///   higher, docs/lm.md), lr 1e-3, wd 0.1; cosine to lr/10, clip 1.0.
public enum TunedDefaults {
    public static func optimizer(_ kind: OptimizerKind, model: ModelKind) -> OptimizerConfig {
        var o = OptimizerConfig.defaults(for: kind)
        switch (model, kind) {
        case (.mlp, .lion): o.lr = 3e-4; o.weightDecay = 0.1
        case (.mlp, .adamw): o.lr = 3e-3; o.weightDecay = 0.01
        case (.gpt, .lion): o.lr = 3e-4; o.weightDecay = 1; o.beta1 = 0.95; o.beta2 = 0.98
        case (.gpt, .adamw): o.lr = 1e-3; o.weightDecay = 0.1; o.beta1 = 0.9; o.beta2 = 0.99
        }
        return o
    }

    /// Global batch: 256 images; 12 sequences (nanoGPT's baby GPT).
    public static func globalBatch(_ model: ModelKind) -> Int { model == .mlp ? 256 : 12 }

    /// The floor of the schedule as a fraction of the peak lr: 0 for the MLP, 1/10 for the GPT.
    public static func minLRFraction(_ model: ModelKind) -> Float { model == .mlp ? 0 : 0.1 }

    /// Gradient-norm clipping: off for the MLP, 1.0 for the GPT.
    public static func clipNorm(_ model: ModelKind) -> Float { model == .mlp ? 0 : 1 }

    public static func dataDirectory(_ model: ModelKind) -> String {
        model == .mlp ? FashionMNIST.defaultDirectory : ShakespeareCorpus.defaultDirectory
    }
}

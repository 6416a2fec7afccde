import Basics
import Training
/// How the peak learning rate follows the global batch B (`--lr-scaling`, against `--base-batch`):
/// none keeps it; linear multiplies it by B/base (Goyal et al. 2017); sqrt by sqrt(B/base)
/// (the usual rule for Adam-type and sign-based optimizers, whose update size does not grow with B).
public enum LRScaling: String, CaseIterable, Sendable {
    case none, linear, sqrt

    /// The factor for global batch `batch` against `base`.
    public func factor(batch: Int, base: Int) -> Double {
        let ratio = Double(batch) / Double(base)
        switch self {
        case .none: return 1
        case .linear: return ratio
        case .sqrt: return ratio.squareRoot()
        }
    }
}

extension TrainConfig {
    /// Sets the global batch (per-rank batch times the world size when `batchPerRank` is given)
    /// and scales the peak and floor learning rates by `scaling` against `baseBatch`. Called once
    /// the world size is known; the same on every rank.
    public mutating func applyBatch(batchPerRank: Int?, worldSize: Int, scaling: LRScaling, baseBatch: Int) throws {
        if let batchPerRank {
            let (b, overflow) = batchPerRank.multipliedReportingOverflow(by: worldSize)
            if overflow { throw TrainingError("--batch-per-rank \(batchPerRank) x \(worldSize) ranks does not fit in 64-bit arithmetic; use a smaller --batch-per-rank") }
            globalBatch = b
        }
        let f = scaling.factor(batch: globalBatch, base: baseBatch)
        optimizer.lr = Float(Double(optimizer.lr) * f)
        minLR = Float(Double(minLR) * f)
    }
}

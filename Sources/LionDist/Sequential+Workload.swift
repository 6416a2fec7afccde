import Layers
import Model
import Training

extension LossSums {
    /// A ``Sequential``'s batch loss as a ``Workload`` returns it: summed loss, rows, correct rows.
    public init(_ loss: BatchLoss) {
        self.init(lossSum: loss.lossSum, count: Double(loss.count), correct: Double(loss.correct))
    }
}

extension ParameterValues {
    /// The parameters a ``Workload``'s `initialize`, `forwardBackward` and `evaluate` receive,
    /// as views: `ParameterValues(params, count: parameterCount)`. (The one bridge from the
    /// Workload's pointers to the layers' typed views.)
    public init(_ params: UnsafePointer<Float>, count: Int) {
        self.init(UnsafeMutablePointer(mutating: params), count: count)
    }
}

import ArgumentParser
import LionEngine

/// The command line's names for the optimizer's fields: the engine's errors name fields
/// (`beta2 must be in [0, 1), got 1.0`), the CLI says which flag to change.
extension OptimizerConfigError.Field {
    var flag: String {
        switch self {
        case .lr: return "--lr"
        case .beta1: return "--beta1"
        case .beta2: return "--beta2"
        case .weightDecay: return "--weight-decay"
        case .eps: return "--eps"
        case .cautiousFactor: return "--cautious-factor"
        }
    }
}

extension OptimizerConfigError {
    /// The message with the flag's name, e.g. `--beta2 must be in [0, 1), got 1.0`.
    var validationError: ValidationError { ValidationError(message(naming: field.flag)) }
}

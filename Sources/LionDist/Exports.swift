// The library's public surface: this module's own types (the facade: `World`,
// `DistributedOptimizer`, `OptimizerOptions`, `TensorLayout`, ...) plus these declarations of
// the implementation modules, re-exported one by one so that `import LionDist` is all a user
// writes and nothing else of those modules leaks out.

// The optimizer engine's choices.
@_exported import enum LionEngine.OptimizerKind
@_exported import enum LionEngine.StateDType
@_exported import enum LionEngine.ScheduleKind
// How gradients cross ranks (`--comm`).
@_exported import enum Sharding.CommKind
// Named views of the flat parameter buffer.
@_exported import struct Model.ParameterTensor
// A model of one's own through the ready-made trainer.
@_exported import protocol Training.Workload
@_exported import struct Training.LossSums
@_exported import struct Training.PeriodRecord
@_exported import struct Training.RunShape
@_exported import enum Training.JSON
@_exported import class Training.Trainer
@_exported import struct Training.TrainConfig
@_exported import struct Training.RunSummary
@_exported import struct Training.CheckpointSettings
@_exported import enum Checkpoint.ModelSignature

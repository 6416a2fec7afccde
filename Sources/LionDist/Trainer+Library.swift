import Training

/// A ``TrainConfig`` for a ``Workload`` of your own.
extension TrainConfig {
    /// A run of your own `Workload`: the global batch it splits over the ranks, the optimizer,
    /// and the schedule (warm-up capped at half the run, as the command line does). Set the
    /// other fields as needed (`clipNorm`, `comm`, `checkpoint`, `metricsPath`, `maxSteps`,
    /// `stopAfter`, `seed`, `threads`). `schedule.totalSteps` is the schedule's length, as for
    /// ``DistributedOptimizer``; 0: the run's steps (the workload's `totalSteps`, cut by
    /// `maxSteps`). `stopAfter` ends a run early on the same curve (resume it later).
    public init(globalBatch: Int, optimizer: OptimizerOptions, schedule: Schedule = .constant) {
        self.init()
        self.globalBatch = globalBatch
        self.optimizer = optimizer.engineConfig
        self.schedule = schedule.kind
        self.warmupSteps = schedule.warmupSteps
        self.minLR = schedule.minLR
        self.scheduleSteps = schedule.totalSteps > 0 ? schedule.totalSteps : nil
        self.logInterval = 1
    }
}

/// Running a ``Workload`` of your own through the ready-made loop.
extension Trainer {
    /// Sets up a run of your own `Workload` through the ready-made loop (progress lines,
    /// `--metrics` JSON Lines, checkpoints and resume, memory report), checking the workload and
    /// the config first: every rank throws the same `LionDistError` for a bad batch size,
    /// hyperparameter, signature, or tensors that do not tile the buffer. Collective. Then
    /// `run()` trains and returns the summary (the same on every rank).
    ///
    /// ```swift
    /// let trainer = try Trainer(workload: MyModel(world: world), config: config, world: world)
    /// let summary = try trainer.run()
    /// ```
    public convenience init(workload: Workload, config: TrainConfig, world: World) throws {
        try LionDistError.wrap {
            try config.optimizer.validate()
            try TrainConfig.checkBatch(config.globalBatch, worldSize: world.size, flag: "globalBatch")
            try workload.signature.validate()
        }
        guard config.clipNorm >= 0, config.clipNorm.isFinite, config.minLR >= 0, config.warmupSteps >= 0 else {
            throw LionDistError(.invalidArgument, "clipNorm, minLR and warmupSteps must be >= 0 (and finite)")
        }
        let count = try TensorLayout.check(workload.tensors)
        guard count == workload.parameterCount, workload.signature.parameterCount == count else {
            throw LionDistError(.invalidArgument, "workload \(workload.name): tensors cover \(count) elements, parameterCount is \(workload.parameterCount), signature says \(workload.signature.parameterCount); make them agree")
        }
        let segments = workload.segments
        guard segments.first?.lowerBound == 0, segments.last?.upperBound == count,
              zip(segments, segments.dropFirst()).allSatisfy({ $0.upperBound == $1.lowerBound && !$1.isEmpty }) else {
            throw LionDistError(.invalidArgument, "workload \(workload.name): segments must tile [0, \(count)) in ascending order")
        }
        guard workload.stepsPerPeriod >= 1, workload.periods >= 1, workload.totalSteps >= 1 else {
            throw LionDistError(.invalidArgument, "workload \(workload.name): stepsPerPeriod, periods and totalSteps must be >= 1")
        }
        do { try self.init(config: config, topology: world.topology, workload: workload) } catch { throw LionDistError.wrapping(error) }
    }

    /// Trains to the end (see `run()`), with every error as a `LionDistError`. Collective.
    public func train() throws -> RunSummary {
        try LionDistError.wrap { try run() }
    }
}

import LionEngine

/// Header bytes <-> `CheckpointHeader`. Decoding is pure Swift on bytes (no MPI, no files) and
/// bounds-checks everything: a header that lies cannot make the reader read outside its bytes
/// or the file, or allocate more than `maxHeaderBytes`.
extension CheckpointHeader {
    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.raw(Self.magic)
        w.u32(Self.version)
        w.u32(UInt32(headerBytes))
        let id = identity, o = id.optimizer, p = position
        w.u32(id.model.code)
        w.u32(UInt32(id.model.dims.count))
        for d in id.model.dims { w.u32(UInt32(d)) }
        w.u8(o.kind == .lion ? 0 : 1)
        w.u8(o.stateDType == .fp32 ? 0 : 1)
        w.u8(UInt8(ScheduleKind.allCases.firstIndex(of: id.schedule)!))
        w.u8(id.perRankState ? (id.averagedVotes ? 2 : 1) : 0)
        for f in [o.lr, o.beta1, o.beta2, o.weightDecay, o.eps, id.minLR, id.clipNorm, o.cautiousFactor] { w.f32(f) }
        w.int(id.warmupSteps)
        w.int(id.totalSteps)
        w.int(id.globalBatch)
        w.u64(id.seed)
        for v in [p.step, p.epoch, p.stepInEpoch, p.optimizerStep, p.skippedSteps, p.epochSteps] { w.int(v) }
        w.f64(p.epochLossSum)
        w.u32(UInt32(writerWorldSize))
        w.int(parameterCount)
        w.u32(UInt32(stateBuffers))
        w.u32(UInt32(blockSize))
        w.int(dataOffset)
        w.int(blockCRCs.count)
        for c in blockCRCs { w.u32(c) }
        w.u32(Checksums.crc32(w.bytes))
        precondition(w.bytes.count == headerBytes, "header layout out of sync: \(w.bytes.count) vs \(headerBytes)")
        return w.bytes
    }

    /// Checks the fixed prefix (magic, version) and returns the header length it announces,
    /// checked against the limits and the file size before anyone reads that many bytes.
    public static func headerLength(prefix: [UInt8], fileSize: Int) throws -> Int {
        guard prefix.count >= prefixBytes, fileSize >= prefixBytes else {
            throw CheckpointError(.truncated, "truncated: \(fileSize) bytes, too short to hold a checkpoint header")
        }
        guard Array(prefix[0..<8]) == magic else {
            throw CheckpointError(.badMagic, "wrong magic: not a lion-dist checkpoint")
        }
        var r = ByteReader(prefix, position: 8)
        let version = try r.u32("version")
        guard Self.readableVersions.contains(version) else {
            throw CheckpointError(.badVersion, "format version \(version), this build reads versions \(Self.readableVersions.lowerBound)-\(Self.version)")
        }
        let length = Int(try r.u32("headerBytes"))
        guard length >= headerBytes(modelDims: 0, blocks: 0), length <= maxHeaderBytes else {
            throw CheckpointError.header("header length \(length) is outside \(headerBytes(modelDims: 0, blocks: 0))...\(maxHeaderBytes)")
        }
        guard length <= fileSize else {
            throw CheckpointError(.truncated, "truncated: \(fileSize) bytes, shorter than its \(length)-byte header")
        }
        return length
    }

    /// Decodes a whole header (`bytes` holds at least its announced length) of a file of
    /// `fileSize` bytes, which must be exactly the header's data end. Throws a
    /// `CheckpointError` naming the first problem.
    public static func decode(_ bytes: [UInt8], fileSize: Int) throws -> CheckpointHeader {
        let length = try headerLength(prefix: Array(bytes.prefix(prefixBytes)), fileSize: fileSize)
        guard bytes.count >= length else {
            throw CheckpointError(.truncated, "truncated header: \(bytes.count) of \(length) bytes")
        }
        let body = Array(bytes[0..<length])
        var tail = ByteReader(body, position: length - 4)
        let stored = try tail.u32("headerCRC")
        let actual = Checksums.crc32(Array(body[0..<length - 4]))
        guard stored == actual else {
            throw CheckpointError(.checksum, String(format: "header checksum mismatch (stored %08x, computed %08x)", stored, actual))
        }
        let header = try decodeFields(body)
        guard fileSize == header.fileBytes else {
            let how = fileSize < header.fileBytes ? "truncated" : "too long"
            throw CheckpointError(.truncated, "\(how): \(fileSize) bytes, its header says \(header.fileBytes)")
        }
        return header
    }

    /// The fields of a header whose length and CRC are already checked (tests call it on
    /// resealed mutations to reach every bounds check behind the CRC).
    static func decodeFields(_ body: [UInt8]) throws -> CheckpointHeader {
        let length = body.count
        var r = ByteReader(Array(body[0..<length - 4]), position: prefixBytes)
        var v = ByteReader(body, position: 8)
        let version = try v.u32("version")
        let width = 1...maxWidth
        let modelCode = try r.u32("model")
        let dimCount = try r.count("dimCount", in: 2...maxModelDims)
        var dims: [Int] = []
        for i in 0..<dimCount { dims.append(try r.count("dims[\(i)]", in: width)) }
        let kindRaw = try r.u8("optimizer"), dtypeRaw = try r.u8("stateDType"), scheduleRaw = try r.u8("schedule")
        let perRankRaw = try r.u8("perRankState")
        guard perRankRaw <= 2 else { throw CheckpointError.header("per-rank state byte is \(perRankRaw), not 0, 1 or 2") }
        guard kindRaw <= 1 else { throw CheckpointError.header("unknown optimizer code \(kindRaw)") }
        guard dtypeRaw <= 1 else { throw CheckpointError.header("unknown state dtype code \(dtypeRaw)") }
        guard Int(scheduleRaw) < ScheduleKind.allCases.count else { throw CheckpointError.header("unknown schedule code \(scheduleRaw)") }
        var f: [Float] = []
        for name in ["lr", "beta1", "beta2", "weightDecay", "eps", "minLR", "clipNorm"] { f.append(try r.f32(name)) }
        // Version 2 (before cautious Lion) has no factor: plain Lion.
        f.append(version >= 3 ? try r.f32("cautiousFactor") : 1)
        let steps = 0...maxSteps
        let warmup = try r.int("warmupSteps", in: steps)
        let total = try r.int("totalSteps", in: steps)
        let batch = try r.int("globalBatch", in: 1...Int(Int32.max))
        let seed = try r.u64("seed")
        var pos: [Int] = []
        for name in ["step", "epoch", "stepInEpoch", "optimizerStep", "skippedSteps", "epochSteps"] {
            pos.append(try r.int(name, in: steps))
        }
        let lossSum = try r.f64("epochLossSum")
        let writers = try r.count("writerWorldSize", in: 1...(1 << 24))
        let n = try r.int("parameterCount", in: 1...(1 << 40))
        guard let model = ModelSignature.decode(code: modelCode, dims: dims, parameterCount: n) else {
            throw CheckpointError.header("model code \(modelCode) with dimensions \(dims) names no model this build knows")
        }
        let buffers = try r.count("stateBuffers", in: 1...2)
        let blockSize = try r.count("blockSize", in: 4096...(1 << 30))
        guard blockSize & (blockSize - 1) == 0 else { throw CheckpointError.header("block size \(blockSize) is not a power of two") }
        let dataOffset = try r.int("dataOffset", in: 0...(1 << 50))
        let blocks = try r.int("blockCount", in: 0...maxBlocks)
        guard blocks * 4 <= r.remaining else {
            throw CheckpointError.header("blockCount \(blocks) needs \(blocks * 4) bytes of checksums, the header holds \(r.remaining)")
        }
        var crcs: [UInt32] = []
        crcs.reserveCapacity(blocks)
        for i in 0..<blocks { crcs.append(try r.u32("blockCRC[\(i)]")) }
        guard r.remaining == 0 else { throw CheckpointError.header("\(r.remaining) unexpected bytes before the header checksum") }

        let kind: OptimizerKind = kindRaw == 0 ? .lion : .adamw
        let optimizer = OptimizerConfig(kind: kind, lr: f[0], beta1: f[1], beta2: f[2], weightDecay: f[3], eps: f[4],
                                        stateDType: dtypeRaw == 0 ? .fp32 : .bf16, cautiousFactor: f[7])
        do { try optimizer.validate() } catch { throw CheckpointError.header("hyperparameters: \(error)") }
        guard f[5] >= 0, f[5].isFinite, f[6] >= 0, f[6].isFinite else { throw CheckpointError.header("bad min-lr or clip-norm") }
        let identity = CheckpointIdentity(model: model, optimizer: optimizer,
                                          schedule: ScheduleKind.allCases[Int(scheduleRaw)], warmupSteps: warmup,
                                          totalSteps: total, minLR: f[5], clipNorm: f[6], globalBatch: batch, seed: seed,
                                          perRankState: perRankRaw >= 1, averagedVotes: perRankRaw == 2)
        guard identity.parameterCount == n else {
            throw CheckpointError.header("parameterCount \(n) does not match \(model.description)")
        }
        guard buffers == optimizer.stateBuffers else {
            throw CheckpointError.header("\(buffers) state buffers for \(kind.rawValue), which keeps \(optimizer.stateBuffers)")
        }
        let position = CheckpointPosition(step: pos[0], epoch: pos[1], stepInEpoch: pos[2], optimizerStep: pos[3],
                                          skippedSteps: pos[4], epochLossSum: lossSum, epochSteps: pos[5])
        guard position.optimizerStep + position.skippedSteps == position.step, position.epochSteps <= position.step else {
            throw CheckpointError.header("inconsistent step counters (step \(pos[0]), applied \(pos[3]), skipped \(pos[4]))")
        }
        let header = CheckpointHeader(identity: identity, position: position, writerWorldSize: writers,
                                      parameterCount: n, blockSize: blockSize, blockCRCs: crcs)
        guard blocks == header.blockCount else {
            throw CheckpointError.header("blockCount \(blocks), but \(header.dataBytes) data bytes in \(blockSize)-byte blocks need \(header.blockCount)")
        }
        // Version 2 headers are the factor's 4 bytes shorter; the data offset is the same.
        guard header.headerBytes - (version >= 3 ? 0 : 4) == length, dataOffset == header.dataOffset else {
            throw CheckpointError.header("header length \(length) / data offset \(dataOffset) disagree with its fields")
        }
        return header
    }
}

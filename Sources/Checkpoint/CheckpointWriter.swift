import Collectives
import Foundation
import LionEngine

/// What one save wrote.
public struct SaveReport: Sendable {
    public let path: String
    public let bytes: Int
    public let seconds: Double
    public var megabytesPerSecond: Double { Double(bytes) / 1e6 / max(seconds, 1e-9) }
}

/// Writes one checkpoint collectively with MPI-IO: every rank writes the real part of its
/// shard of the parameters and of each state buffer at its canonical offset; the per-block
/// CRCs are assembled from each rank's pieces (zlib's crc32_combine) and rank 0 writes the
/// header. The file is written under a temporary name whose space is reserved first
/// (posix_fallocate), every write's count is checked, then it is synced, closed, read back
/// (size, header, every block checksum, each rank checking every W-th block) and only then
/// renamed into place; older checkpoints are pruned only after that. On any failure the
/// temporary file is removed and the last good checkpoint stays. Every step that can fail
/// goes through `comm.agree`, so all ranks stop together.
public enum CheckpointWriter {
    /// One contiguous run of bytes this rank wrote, inside one block.
    struct Piece {
        var offset: Int   // data-relative byte offset
        var length: Int
        var crc: UInt32
    }

    public static func save(comm: Communicator, directory: CheckpointDirectory, keep: Int,
                            identity: CheckpointIdentity, position: CheckpointPosition,
                            params: UnsafeBufferPointer<Float>, shard: Range<Int>, optimizer: LocalOptimizer,
                            hooks: CheckpointTestHooks = .none) throws -> SaveReport {
        let start = MPIRuntime.time()
        let n = identity.parameterCount!
        let buffers = identity.optimizer.stateBuffers
        var header = CheckpointHeader(identity: identity, position: position, writerWorldSize: comm.size, parameterCount: n,
                                      blockSize: 0, blockCRCs: [])
        let dataBytes = header.dataBytes
        header.blockSize = CheckpointHeader.blockSize(forDataBytes: dataBytes)
        header.blockCRCs = [UInt32](repeating: 0, count: CheckpointHeader.blockCount(dataBytes: dataBytes, blockSize: header.blockSize))
        let blockSize = header.blockSize
        let lo = min(shard.lowerBound, n), mine = min(shard.upperBound, n) - lo
        let region = StateRegion(perRank: identity.perRankState, rank: comm.rank, buffers: buffers, shard: lo..<(lo + mine), count: n)
        let step = position.step
        let isRoot = comm.rank == 0
        let tmpPath = directory.temporaryPath(step: step)

        try comm.agree { if isRoot { try directory.prepare(step: step, bytes: header.fileBytes, preallocate: !hooks.skipPreallocation) } }
        do {
            let file = try comm.agree { try MPIFile(comm: comm, path: tmpPath, mode: .createWriteOnly) }
            try comm.agree { try file.setSize(header.fileBytes) }
            // Parameters, then each state buffer (exported to canonical fp32).
            let shardParams = UnsafeBufferPointer(rebasing: params[lo..<lo + mine])
            try comm.agree { try file.writeAtAll(offset: header.dataOffset + lo * 4, floats: shardParams) }
            var pieces = crcPieces(shardParams, dataOffset: lo * 4, blockSize: blockSize)
            for k in 0..<buffers {
                let at = region.byteOffset(buffer: k)
                try optimizer.exportState(k).withUnsafeBufferPointer { values in
                    let real = UnsafeBufferPointer(rebasing: values[..<region.range.count])
                    try comm.agree { try file.writeAtAll(offset: header.dataOffset + at, floats: real) }
                    pieces += crcPieces(real, dataOffset: at, blockSize: blockSize)
                }
            }
            hooks.killIfAsked(.save, step: step, rank: comm.rank)
            header.blockCRCs = try combine(pieces, header: header, comm: comm)
            try comm.agree { if isRoot { try file.writeAt(offset: 0, bytes: header.encode()) } }
            try comm.agree { try file.sync() }
            try comm.agree { try file.close() }
            hooks.corruptIfAsked(path: tmpPath, step: step, rank: comm.rank)
            try verifyWritten(comm: comm, path: tmpPath, header: header)
            try comm.agree { if isRoot { try directory.commit(step: step) } }
        } catch {
            if isRoot { unlink(tmpPath) }
            throw error
        }
        if isRoot { directory.prune(keep: keep) }
        return SaveReport(path: directory.finalPath(step: step), bytes: header.fileBytes, seconds: MPIRuntime.time() - start)
    }

    /// Reads the closed temporary file back before it may replace anything: its size, its
    /// header (equal to the one written) and every block's checksum, each rank checking every
    /// W-th block, mostly written by other ranks. Collective.
    static func verifyWritten(comm: Communicator, path: String, header: CheckpointHeader) throws {
        let file = try comm.agree { try MPIFile(comm: comm, path: path, mode: .readOnly) }
        try comm.agree {
            do {
                let source = try MPICheckpointSource(file: file)
                guard source.size == header.fileBytes else {
                    throw CheckpointError(.truncated, "is \(source.size) bytes after writing, expected \(header.fileBytes)")
                }
                guard try CheckpointVerifier.header(of: source) == header else {
                    throw CheckpointError(.badHeader, "its header reads back different from the one written")
                }
                try CheckpointVerifier.verify(source, header, blocks: stride(from: comm.rank, to: header.blockCount, by: comm.size))
            } catch let e as CheckpointError {
                throw CheckpointError(e.kind, "read-back of \(path) failed: \(e.message)")
            }
        }
        try comm.agree { try file.close() }
    }

    /// CRCs of `floats` at data offset `dataOffset`, cut at block boundaries.
    static func crcPieces(_ floats: UnsafeBufferPointer<Float>, dataOffset: Int, blockSize: Int) -> [Piece] {
        let bytes = UnsafeRawBufferPointer(floats)
        var out: [Piece] = []
        var at = 0
        while at < bytes.count {
            let absolute = dataOffset + at
            let length = min(bytes.count - at, blockSize - absolute % blockSize)
            let crc = Checksums.crc32(0, UnsafeRawBufferPointer(rebasing: bytes[at..<at + length]))
            out.append(Piece(offset: absolute, length: length, crc: crc))
            at += length
        }
        return out
    }

    /// Every rank's pieces, gathered and combined in file order into one CRC per block.
    /// Collective. Throws if the pieces do not tile the data region exactly.
    static func combine(_ pieces: [Piece], header: CheckpointHeader, comm: Communicator) throws -> [UInt32] {
        let most = Int(try comm.allreduceMax(Int64(pieces.count)))
        // (offset, length, crc) per piece; ranks with fewer pieces pad with empty ones.
        let mine = (0..<most).flatMap { i -> [Int64] in
            let p = i < pieces.count ? pieces[i] : Piece(offset: 0, length: 0, crc: 0)
            return [Int64(p.offset), Int64(p.length), Int64(p.crc)]
        }
        var all: [Piece] = []
        for row in try comm.allgather(mine) {
            for at in stride(from: 0, to: row.count, by: 3) where row[at + 1] > 0 {
                all.append(Piece(offset: Int(row[at]), length: Int(row[at + 1]), crc: UInt32(truncatingIfNeeded: row[at + 2])))
            }
        }
        all.sort { $0.offset < $1.offset }
        var crcs = [UInt32](repeating: 0, count: header.blockCount)
        var expected = 0
        for p in all {
            guard p.offset == expected else {
                throw CheckpointError(.io, "internal: checkpoint pieces do not tile the data (gap at byte \(expected))")
            }
            let b = p.offset / header.blockSize
            crcs[b] = p.offset % header.blockSize == 0 ? p.crc : Checksums.combine(crcs[b], p.crc, lengthB: p.length)
            expected += p.length
        }
        guard expected == header.dataBytes else {
            throw CheckpointError(.io, "internal: checkpoint pieces cover \(expected) of \(header.dataBytes) bytes")
        }
        return crcs
    }
}

/// Where a rank's optimizer state goes in the data region. Sharded state: this rank's shard of
/// each canonical buffer. Per-rank state (sign-vote): all of this rank's own copy of each buffer,
/// after the lower ranks' copies. `optimizer` holds state for elements [0, range.count) either way
/// (the shard, or every parameter).
struct StateRegion {
    let firstBuffer: Int
    let range: Range<Int>
    let count: Int

    init(perRank: Bool, rank: Int, buffers: Int, shard: Range<Int>, count: Int) {
        firstBuffer = perRank ? rank * buffers : 0
        range = perRank ? 0..<count : shard
        self.count = count
    }

    /// Data-relative byte offset of this rank's part of state buffer `k`.
    func byteOffset(buffer k: Int) -> Int { ((1 + firstBuffer + k) * count + range.lowerBound) * 4 }
}

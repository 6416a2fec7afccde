import Collectives
import LionEngine

/// A checkpoint read through MPI-IO (every rank opens it; each reads what it needs).
final class MPICheckpointSource: CheckpointSource {
    let file: MPIFile
    let size: Int
    var path: String { file.path }

    init(file: MPIFile) throws {
        self.file = file
        self.size = try file.size()
    }

    func read(offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw CheckpointError(.truncated, "read of \(count) bytes at \(offset) runs past the end (\(size) bytes)")
        }
        return try file.readAt(offset: offset, count: count)
    }
}

/// Loads a checkpoint into a run of any world size: every rank checks the header and a 1/W
/// share of the block checksums, then reads all of the parameters and only its own shard's
/// range of each state buffer. Resharding costs nothing. Collective. `params` is the padded
/// parameter buffer (the model's values, then zeros).
public enum CheckpointReader {
    public static func load(comm: Communicator, path: String, expected: CheckpointIdentity,
                            params: UnsafeMutableBufferPointer<Float>, shard: Range<Int>,
                            optimizer: LocalOptimizer) throws -> CheckpointHeader {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        func about(_ body: () throws -> Void) throws {
            do { try body() } catch let e as CheckpointError { throw e.about(path) } catch {
                throw CheckpointError(.io, "checkpoint \(path): \(error)")
            }
        }
        let file = try comm.agree { () throws -> MPIFile in
            // Said before MPI-IO, whose errors name neither the path's kind nor the permission.
            if let problem = CheckpointDirectory.problem(reading: path) { throw CheckpointError(.io, "checkpoint \(path) \(problem)") }
            var f: MPIFile? = nil
            try about { f = try MPIFile(comm: comm, path: path, mode: .readOnly) }
            return f!
        }
        let source = try comm.agree { () throws -> MPICheckpointSource in
            var s: MPICheckpointSource? = nil
            try about { s = try MPICheckpointSource(file: file) }
            return s!
        }
        let header = try comm.agree { () throws -> CheckpointHeader in
            var h: CheckpointHeader? = nil
            try about { h = try CheckpointVerifier.header(of: source) }
            return h!
        }
        // Every rank decoded the same header, so every rank throws here alike.
        if let why = header.identity.mismatch(against: expected) {
            throw CheckpointError(.mismatch, "checkpoint \(name) \(why), or another --checkpoint dir")
        }
        if header.identity.perRankState && header.writerWorldSize != comm.size {
            throw CheckpointError(.mismatch, "checkpoint \(name) holds the momentum of each of the \(header.writerWorldSize) ranks of a --comm sign-vote run "
                + "(each rank's own, which cannot be split or merged for another rank count); this run has \(comm.size): resume with \(header.writerWorldSize) ranks")
        }
        try comm.agree {
            try about {
                try CheckpointVerifier.verify(source, header, blocks: stride(from: comm.rank, to: header.blockCount, by: comm.size))
            }
        }
        let n = header.parameterCount
        let lo = min(shard.lowerBound, n), mine = min(shard.upperBound, n) - lo
        let region = StateRegion(perRank: header.identity.perRankState, rank: comm.rank, buffers: header.stateBuffers,
                                shard: lo..<(lo + mine), count: n)
        try comm.agree {
            try about {
                try file.readAt(offset: header.dataOffset, into: UnsafeMutableBufferPointer(rebasing: params[..<n]))
                UnsafeMutableBufferPointer(rebasing: params[n...]).update(repeating: 0)
                for k in 0..<header.stateBuffers {
                    // This rank's part of the state (its shard, or with per-rank state all of its own
                    // copy); the padding past the model stays 0.
                    var values = [Float](repeating: 0, count: optimizer.count)
                    try values.withUnsafeMutableBufferPointer {
                        try file.readAt(offset: header.dataOffset + region.byteOffset(buffer: k),
                                        into: UnsafeMutableBufferPointer(rebasing: $0[..<region.range.count]))
                    }
                    optimizer.importState(k, from: values)
                }
            }
        }
        try comm.agree { try file.close() }
        optimizer.step = header.position.optimizerStep
        return header
    }
}

import Basics

// The whole model's forward and backward, composed from the layer kernels in this folder.
// B = batch, T = positions, C = width, V = vocabulary, NH = heads, L = blocks.
// Per block l (pre-LayerNorm):  mid = x + c_proj(attn(c_attn(ln_1(x))))
//                               x'  = mid + mlp.c_proj(gelu(mlp.c_fc(ln_2(mid))))
// Head: logits = ln_f(x_L) wte^T (tied).

extension GPT {
    /// tokens is (batch, blockSize + 1): inputs = row[0..<T], targets = row[1...T].
    /// OVERWRITES grads[0..<parameterCount] with the gradient of the MEAN cross-entropy over
    /// batch * T targets; returns the SUM of the losses (nats) over those targets.
    /// Backward runs on the loss gradient scaled by a power of two (1/2^k, 2^k >= batch * T),
    /// not by 1/(batch * T): the values every product sees then differ between batch splits
    /// (rank counts) by powers of two only, so bf16 operands round alike at any W; each
    /// segment is rescaled to the mean (x 2^k / (batch * T)) just before it is reported done.
    /// `segmentDone(i)` runs as soon as `segments[i]` of grads is final, i descending.
    /// Deterministic for the same inputs and BLAS thread count.
    public func forwardBackward(params: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>,
                                tokens: UnsafePointer<UInt16>, batch: Int, workspace ws: GPTWorkspace,
                                segmentDone: (Int) throws -> Void) rethrows -> Double {
        try forwardBackward(params: params, gradients: .flat(grads), tokens: tokens, batch: batch, workspace: ws,
                            segmentDone: segmentDone)
    }

    /// The same, writing each tensor's gradient where `gradients` says (sharded gradients: a
    /// staging slot of its bucket).
    public func forwardBackward(params: UnsafePointer<Float>, gradients grads: GradientSink,
                                tokens: UnsafePointer<UInt16>, batch: Int, workspace ws: GPTWorkspace,
                                segmentDone: (Int) throws -> Void) rethrows -> Double {
        check(ws, batch: batch)
        let (T, C, V, NH) = (config.blockSize, config.nEmbd, config.vocabSize, config.nHead)
        let (B, N, rowStride) = (batch, batch * config.blockSize, config.blockSize + 1)
        let power = 1 << (Int.bitWidth - (N - 1).leadingZeroBitCount)   // the least 2^k >= N
        let toMean = Float(Double(power) / Double(N))
        forward(params: params, tokens: tokens, stride: rowStride, B: B, T: T, ws: ws)
        let logits = ws.logits.pointer
        let lossSum = ws.timed(.head, .forward) {
            ws.linear.forward(out: logits, x: ws.lnf.pointer, params: params, w: wte, N: N, I: C, O: V, residual: nil)
            return crossEntropy(logits: logits, tokens: tokens, stride: rowStride, B: B, T: T, V: V, dscale: 1 / Float(power))
        }

        // Head: dwte = dlogits^T lnf (overwritten; the embedding adds to it), dC = dlogits wte.
        let dres = ws.dresidual.pointer
        let dC = ws.dC.pointer
        ws.timed(.head, .backward) {
            ws.linear.backward(dx: dC, dw: grads.at(wte), dout: logits, x: ws.lnf.pointer, params: params, w: wte,
                               N: N, I: C, O: V, accumulate: false)
        }
        ws.timed(.lnf, .backward) {
            dres.update(repeating: 0, count: N * C)
            layerNormBackward(dx: dres, dw: grads.at(lnf), dout: dC, x: ws.residual[config.nLayer].pointer,
                              w: params + lnf, mean: ws.lnfMean.pointer, rstd: ws.lnfRstd.pointer, N: N, C: C)
        }
        try finish(segments.count - 1, grads, toMean, segmentDone)

        for l in stride(from: config.nLayer - 1, through: 0, by: -1) {
            let p = blocks[l]
            let a = ws.blocks[l]
            if !a.keepsMid {  // bf16: mid = x + c_proj(atty), recomputed as the forward computed it
                ws.timed(.cProj, .backward) {
                    ws.linear.forward(out: a.residualMid.pointer, x: a.atty.pointer, params: params, w: p.cProj, N: N, I: C, O: C,
                                      residual: ws.residual[l].pointer)
                }
            }
            // MLP: dres is the gradient of x' and, through the residual, of mid.
            let d4C = ws.d4C.pointer
            // Recomputed in one fork-join (row-local kernels): the GELU output (fp32: with its slope
            // gelu'(fc) from the same tanh in place of fc, not read again); ln_2's output (for c_fc below).
            parallelChunks(N) { chunk, rows in
                let (r, n) = (rows.lowerBound, rows.count)
                ws.timed(.gelu, .backward, when: chunk == 0) {
                    geluRecompute(out: ws.gelu.pointer + r * 4 * C, fc: a.fc.pointer + r * 4 * C, count: n * 4 * C)
                }
                ws.timed(.ln2, .backward, when: chunk == 0) {
                    layerNormForward(out: ws.ln.pointer + r * C, mean: a.ln2Mean.pointer + r, rstd: a.ln2Rstd.pointer + r,
                                     x: a.residualMid.pointer + r * C, w: params + p.ln2, N: n, C: C)
                }
            }
            ws.timed(.mlpProj, .backward) {
                ws.linear.backward(dx: d4C, dw: grads.at(p.fcProj), dout: dres, x: ws.gelu.pointer, params: params, w: p.fcProj,
                                   N: N, I: 4 * C, O: C, accumulate: false)
            }
            try finish(Self.blockSegment(l, 5), grads, toMean, segmentDone)
            ws.timed(.gelu, .backward) { geluBackward(dx: d4C, recomputed: a.fc.pointer, dout: d4C, count: N * 4 * C) }
            ws.timed(.cFc, .backward) {
                ws.linear.backward(dx: dC, dw: grads.at(p.fc), dout: d4C, x: ws.ln.pointer, params: params, w: p.fc,
                                   N: N, I: C, O: 4 * C, accumulate: false)
            }
            try finish(Self.blockSegment(l, 4), grads, toMean, segmentDone)
            ws.timed(.ln2, .backward) {
                layerNormBackward(dx: dres, dw: grads.at(p.ln2), dout: dC, x: a.residualMid.pointer, w: params + p.ln2,
                                  mean: a.ln2Mean.pointer, rstd: a.ln2Rstd.pointer, N: N, C: C)
            }
            try finish(Self.blockSegment(l, 3), grads, toMean, segmentDone)
            // Attention: dres is now the gradient of mid and, through the residual, of x.
            ws.timed(.cProj, .backward) {
                ws.linear.backward(dx: dC, dw: grads.at(p.cProj), dout: dres, x: a.atty.pointer, params: params, w: p.cProj,
                                   N: N, I: C, O: C, accumulate: false)
            }
            try finish(Self.blockSegment(l, 2), grads, toMean, segmentDone)
            // In one fork-join over the sequences: the attention's backward and ln_1's output (recomputed).
            let x = ws.residual[l].pointer
            let (tiles, _) = ws.attentionTiles()
            parallelChunks(B) { chunk, sequences in
                let (r, n, first) = (sequences.lowerBound * T, sequences.count * T, chunk == 0)
                ws.timed(.attention, .backward, when: first) {
                    attentionBackward(dqkv: ws.dqkv.pointer + r * 3 * C, dout: dC + r * C, qkv: a.qkv.pointer + r * 3 * C,
                                      out: a.atty.pointer + r * C, lse: a.lse.pointer + sequences.lowerBound * NH * T,
                                      scratch: tiles + chunk * ws.attentionSlotFloats, engines: ws.attentionEngines(from: chunk),
                                      slots: parallelThreads,
                                      B: sequences.count, T: T, C: C, NH: NH)
                }
                ws.timed(.ln1, .backward, when: first) {
                    layerNormForward(out: ws.ln.pointer + r * C, mean: a.ln1Mean.pointer + r, rstd: a.ln1Rstd.pointer + r,
                                     x: x + r * C, w: params + p.ln1, N: n, C: C)
                }
            }
            ws.timed(.cAttn, .backward) {
                ws.linear.backward(dx: dC, dw: grads.at(p.cAttn), dout: ws.dqkv.pointer, x: ws.ln.pointer, params: params, w: p.cAttn,
                                   N: N, I: C, O: 3 * C, accumulate: false)
            }
            try finish(Self.blockSegment(l, 1), grads, toMean, segmentDone)
            ws.timed(.ln1, .backward) {
                layerNormBackward(dx: dres, dw: grads.at(p.ln1), dout: dC, x: x, w: params + p.ln1,
                                  mean: a.ln1Mean.pointer, rstd: a.ln1Rstd.pointer, N: N, C: C)
            }
            try finish(Self.blockSegment(l, 0), grads, toMean, segmentDone)
        }

        ws.timed(.embedding, .backward) {
            embeddingBackward(dwte: grads.at(wte), dwpe: grads.at(wpe), dout: dres, tokens: tokens, stride: rowStride,
                              B: B, T: T, C: C)
        }
        try finish(0, grads, toMean, segmentDone)
        return lossSum
    }

    /// Rescales the gradients of the tensors in `segments[i]` by `factor` (to the mean), then
    /// reports the segment done.
    func finish(_ i: Int, _ grads: GradientSink, _ factor: Float, _ segmentDone: (Int) throws -> Void) rethrows {
        if factor != 1 {
            for t in tensors where segments[i].contains(t.offset) {
                let g = grads.at(t.offset)
                parallelRanges(t.count, grain: 1024) { r in
                    for j in r { g[j] *= factor }
                }
            }
        }
        try segmentDone(i)
    }

    /// Forward only: the SUM of the losses over batch * T targets (same tokens layout).
    public func loss(params: UnsafePointer<Float>, tokens: UnsafePointer<UInt16>, batch: Int, workspace ws: GPTWorkspace) -> Double {
        check(ws, batch: batch)
        let (T, C, V) = (config.blockSize, config.nEmbd, config.vocabSize)
        let rowStride = T + 1
        forward(params: params, tokens: tokens, stride: rowStride, B: batch, T: T, ws: ws)
        ws.linear.forward(out: ws.logits.pointer, x: ws.lnf.pointer, params: params, w: wte, N: batch * T, I: C, O: V, residual: nil)
        return crossEntropy(logits: ws.logits.pointer, tokens: tokens, stride: rowStride, B: batch, T: T, V: V, dscale: nil)
    }

    /// For sampling: the logits (vocabSize) of the token after context[0..<count], 1 <= count <= blockSize.
    public func nextTokenLogits(params: UnsafePointer<Float>, context: UnsafePointer<UInt16>, count: Int,
                                workspace ws: GPTWorkspace, into logits: UnsafeMutablePointer<Float>) {
        check(ws, batch: 1)
        precondition(count >= 1 && count <= config.blockSize, "context of \(count) tokens not in 1...\(config.blockSize)")
        let C = config.nEmbd
        forward(params: params, tokens: context, stride: count, B: 1, T: count, ws: ws)
        ws.linear.forward(out: logits, x: ws.lnf.pointer + (count - 1) * C, params: params, w: wte, N: 1, I: C, O: config.vocabSize, residual: nil)
    }

    func check(_ ws: GPTWorkspace, batch: Int) {
        precondition(ws.model.config == config, "workspace was built for \(ws.model.shapeDescription)")
        precondition(batch >= 1 && batch <= ws.maxBatch, "batch \(batch) not in 1...\(ws.maxBatch)")
    }

    /// Embedding, the blocks and ln_f over (B, T) tokens whose rows are `stride` apart;
    /// fills the workspace's activations up to ws.lnf (B, T, C).
    /// fp32 on several threads: each thread runs the whole forward on its own sequences with
    /// single-threaded kernels (one fork-join per pass instead of nine per block; every op is
    /// row-local, the attention per sequence), so a row's arithmetic and bits are those of one
    /// thread. The timer, when set, times the first chunk's thread. bf16 (whose products share
    /// their bf16 operand buffers) runs all rows at once with the kernels split over the threads.
    func forward(params: UnsafePointer<Float>, tokens: UnsafePointer<UInt16>, stride: Int, B: Int, T: Int, ws: GPTWorkspace) {
        ws.timed(.bf16Weights, .forward) { ws.linear.prepare(params: params, count: parameterCount) }
        _ = ws.attentionTiles()   // grown for this pass's threads
        guard ws.linear is FP32Products, ComputeThreads.count > 1, B > 1 else {
            forward(params: params, tokens: tokens, stride: stride, sequences: 0..<B, T: T, ws: ws, slot: 0, timed: true)
            return
        }
        parallelChunks(B) { chunk, sequences in
            forward(params: params, tokens: tokens, stride: stride, sequences: sequences, T: T, ws: ws,
                    slot: chunk, timed: chunk == 0)
        }
    }

    /// The forward of `sequences` (rows b * T ..< (b + 1) * T of every activation), with the
    /// attention tiles (and bf16 engines) from slot `slot` on (one thread's, or from 0 for all threads).
    private func forward(params: UnsafePointer<Float>, tokens: UnsafePointer<UInt16>, stride: Int, sequences: Range<Int>,
                         T: Int, ws: GPTWorkspace, slot: Int, timed: Bool) {
        let (C, V, NH) = (config.nEmbd, config.vocabSize, config.nHead)
        let (B, row) = (sequences.count, sequences.lowerBound * T)   // row: the first row
        let N = B * T
        func time(_ layer: GPTTimer.Layer, _ body: () -> Void) { ws.timed(layer, .forward, when: timed, body) }
        let ln = ws.ln.pointer + row * C
        time(.embedding) {
            embeddingForward(out: ws.residual[0].pointer + row * C, tokens: tokens + sequences.lowerBound * stride, stride: stride,
                             wte: params + wte, wpe: params + wpe, B: B, T: T, C: C, V: V)
        }
        for (l, p) in blocks.enumerated() {
            let a = ws.blocks[l]
            let x = ws.residual[l].pointer + row * C
            let mid = a.residualMid.pointer + row * C
            let out = ws.residual[l + 1].pointer + row * C
            let (qkv, atty, fc) = (a.qkv.pointer + row * 3 * C, a.atty.pointer + row * C, a.fc.pointer + row * 4 * C)
            time(.ln1) {
                layerNormForward(out: ln, mean: a.ln1Mean.pointer + row, rstd: a.ln1Rstd.pointer + row, x: x, w: params + p.ln1, N: N, C: C)
            }
            time(.cAttn) {
                ws.linear.forward(out: qkv, x: ln, params: params, w: p.cAttn, N: N, I: C, O: 3 * C, residual: nil)
            }
            time(.attention) {
                attentionForward(out: atty, lse: a.lse.pointer + sequences.lowerBound * NH * T, qkv: qkv,
                                 scratch: ws.attentionScratch.pointer + slot * ws.attentionSlotFloats, engines: ws.attentionEngines(from: slot),
                                 slots: parallelThreads, B: B, T: T, C: C, NH: NH)
            }
            time(.cProj) {
                ws.linear.forward(out: mid, x: atty, params: params, w: p.cProj, N: N, I: C, O: C, residual: x)
            }
            time(.ln2) {
                layerNormForward(out: ln, mean: a.ln2Mean.pointer + row, rstd: a.ln2Rstd.pointer + row, x: mid, w: params + p.ln2, N: N, C: C)
            }
            time(.cFc) {
                ws.linear.forward(out: fc, x: ln, params: params, w: p.fc, N: N, I: C, O: 4 * C, residual: nil)
            }
            let gelu = ws.gelu.pointer + row * 4 * C
            time(.gelu) { geluForward(out: gelu, x: fc, count: N * 4 * C) }
            time(.mlpProj) {
                ws.linear.forward(out: out, x: gelu, params: params, w: p.fcProj, N: N, I: 4 * C, O: C, residual: mid)
            }
        }
        time(.lnf) {
            layerNormForward(out: ws.lnf.pointer + row * C, mean: ws.lnfMean.pointer + row, rstd: ws.lnfRstd.pointer + row,
                             x: ws.residual[config.nLayer].pointer + row * C, w: params + lnf, N: N, C: C)
        }
    }
}

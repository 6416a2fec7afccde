import Foundation
import XCTest

/// `export`, `--init-from` and `sample` on safetensors files, read and written by the PyPI
/// `safetensors` package and numpy (no PyTorch): the names and layouts of nanoGPT's state_dict,
/// a plain numpy forward pass of nanoGPT's GPT that gets lion-dist's validation loss, bit-exact
/// round trips at other rank counts, and one line for each bad file.
final class SafetensorsTests: FaultTestCase {
    /// A small GPT; 2 ranks x batch 4, 2 evaluation batches: 8 validation windows; fp32 products,
    /// as the numpy reference's.
    static let gpt = ["--model", "gpt", "--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--block-size", "16",
                      "--eval-batches", "2", "--threads", "1", "--no-memory-check", "--compute-dtype", "fp32"]
    /// One step so small (an lr far below every parameter's half ulp, no decay) that it changes
    /// no bit: the run's final parameters and evaluation are those it started from.
    static let noChange = ["--steps", "1", "--eval-interval", "1", "--lr", "1e-30", "--weight-decay", "0", "--warmup-steps", "0"]

    func train(_ dir: URL, ranks: Int = 2, _ extra: [String]) throws -> (params: URL, metrics: URL) {
        let params = dir.appendingPathComponent("params-\(UUID().uuidString).bin")
        let metrics = dir.appendingPathComponent("metrics-\(UUID().uuidString).jsonl")
        let r = try Launcher.run(ranks: ranks, Self.gpt + extra + ["--save-params", params.path, "--metrics", metrics.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return (params, metrics)
    }

    func valLoss(_ metrics: URL) throws -> Double {
        let summary = try Launcher.readMetrics(metrics).last { $0["event"] as? String == "summary" }
        return try XCTUnwrap(summary?["val_loss"] as? Double)
    }

    func export(_ ck: String, _ out: URL, _ extra: [String] = []) throws {
        let r = try Launcher.run(ranks: nil, ["export", "--checkpoint", ck, "-o", out.path] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func python(_ script: String, _ args: [String], in dir: URL) throws {
        let r = try PythonVenv.run(script, args, module: Self.module, in: dir)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        print(r.stdout, terminator: "")
    }

    func testExportedGPTHasNanoGPTsNamesAndGivesLionDistsValidationLossInNumpy() throws {
        let dir = try temporaryDirectory()
        let ck = dir.appendingPathComponent("ck").path
        let run = try train(dir, ["--steps", "3", "--eval-interval", "3", "--batch-size", "4", "--checkpoint", ck])
        let f32 = dir.appendingPathComponent("model.safetensors"), bf16 = dir.appendingPathComponent("model-bf16.safetensors")
        try export(ck, f32)
        try export(ck, bf16, ["--dtype", "bf16"])
        try python(#"""
        import sys, numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file
        import nanogpt_numpy as g
        path, bf16_path, params_path, corpus, val_loss = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
        sd = load_file(path)
        meta = safe_open(path, "np").metadata()
        names = g.names(2)
        assert list(sorted(sd)) == sorted(names + ["lm_head.weight"]), sorted(sd)
        C, V, T = 32, 84, 16
        shapes = {"transformer.wte.weight": (V, C), "transformer.wpe.weight": (T, C), "transformer.ln_f.weight": (C,), "lm_head.weight": (V, C)}
        for i in range(2):
            p = f"transformer.h.{i}."
            shapes.update({p + "ln_1.weight": (C,), p + "attn.c_attn.weight": (3 * C, C), p + "attn.c_proj.weight": (C, C),
                           p + "ln_2.weight": (C,), p + "mlp.c_fc.weight": (4 * C, C), p + "mlp.c_proj.weight": (C, 4 * C)})
        for k, v in sd.items():
            assert v.dtype == np.float32 and v.shape == shapes[k], (k, v.dtype, v.shape)
        flat = np.fromfile(params_path, dtype="<f4")
        ours = np.concatenate([sd[n].ravel() for n in names])
        assert ours.size == flat.size and np.array_equal(ours.view(np.uint32), flat.view(np.uint32)), "tensors differ from the run's parameters"
        assert np.array_equal(sd["lm_head.weight"], sd["transformer.wte.weight"])
        text = open(corpus, "rb").read()
        vocab = "".join(sorted(set(text.decode("ascii"))))
        assert meta["vocab"] == vocab and len(vocab) == 84, meta["vocab"]
        want = {"model": "gpt", "n_layer": "2", "n_head": "2", "n_embd": "32", "block_size": "16", "vocab_size": "84", "step": "3", "bias": "false"}
        assert all(meta[k] == v for k, v in want.items()), meta
        # bf16: the top halves of the fp32 values rounded to nearest even (read as raw bytes: numpy has no bf16).
        raw = g.raw_tensors(bf16_path)
        for n in names + ["lm_head.weight"]:
            dtype, shape, b = raw[n]
            u = sd[n].ravel().view(np.uint32).astype(np.uint64)
            rne = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
            assert dtype == "BF16" and tuple(shape) == shapes[n] and np.array_equal(np.frombuffer(b, "<u2"), rne), n
        loss = g.loss(sd, 2, g.validation_windows(corpus, 8, T))
        print(f"numpy forward of nanoGPT's layout on 8 validation windows: {loss:.6f}, lion-dist: {val_loss:.6f}")
        assert abs(loss - val_loss) < 1e-4, (loss, val_loss)
        """#, [f32.path, bf16.path, run.params.path, PythonVenv.corpus, "\(try valLoss(run.metrics))"], in: dir)
        // sample reads the safetensors file: the same text as from the checkpoint.
        let a = try Launcher.run(ranks: nil, ["sample", "--checkpoint", ck, "--tokens", "40"])
        let b = try Launcher.run(ranks: nil, ["sample", "--checkpoint", f32.path, "--tokens", "40"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertGreaterThan(b.stdout.count, 40)
    }

    func testNumpyWrittenFileStartsARunWithItsWeightsAndItsLoss() throws {
        let dir = try temporaryDirectory()
        let file = dir.appendingPathComponent("random.safetensors")
        try python(#"""
        import sys, numpy as np
        from safetensors.numpy import save_file
        import nanogpt_numpy as g
        rng = np.random.default_rng(7)
        sd = {}
        for n, shape in g.shapes(2, 84, 16, 32).items():
            sd[n] = np.ones(shape, np.float32) if len(shape) == 1 else (rng.standard_normal(shape) * 0.1).astype(np.float32)
        sd["lm_head.weight"] = sd["transformer.wte.weight"].copy()
        save_file(sd, sys.argv[1])
        print(g.loss(sd, 2, g.validation_windows(sys.argv[2], 8, 16)), file=open(sys.argv[1] + ".loss", "w"))
        """#, [file.path, PythonVenv.corpus], in: dir)
        let numpyLoss = try XCTUnwrap(Double(try String(contentsOf: URL(fileURLWithPath: file.path + ".loss"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let run = try train(dir, Self.noChange + ["--batch-size", "4", "--init-from", file.path])
        XCTAssertEqual(try valLoss(run.metrics), numpyLoss, accuracy: 1e-4)
        try python(#"""
        import sys, numpy as np
        from safetensors.numpy import load_file
        import nanogpt_numpy as g
        sd = load_file(sys.argv[1])
        ours = np.concatenate([sd[n].ravel() for n in g.names(2)])
        assert np.array_equal(ours.view(np.uint32), np.fromfile(sys.argv[2], "<u4")), "the run did not start from the file's weights"
        """#, [file.path, run.params.path], in: dir)
    }

    func testExportThenInitFromGivesTheSameParametersBitForBitAtAnotherRankCount() throws {
        let dir = try temporaryDirectory()
        let ck = dir.appendingPathComponent("ck").path
        let trained = try train(dir, ranks: 1, ["--steps", "2", "--eval-interval", "2", "--batch-size", "4", "--checkpoint", ck])
        let file = dir.appendingPathComponent("model.safetensors")
        try export(ck, file)
        for ranks in [1, 3] {
            let again = try train(dir, ranks: ranks, Self.noChange + ["--batch-size", "6", "--init-from", file.path])
            XCTAssertEqual(try Data(contentsOf: again.params), try Data(contentsOf: trained.params), "W=\(ranks)")
        }
    }

    func testMLPExportHasNNSequentialNames() throws {
        let dir = try temporaryDirectory()
        let ck = dir.appendingPathComponent("ck").path, params = dir.appendingPathComponent("p.bin")
        let r = try Launcher.run(ranks: 1, ["--hidden", "16,8", "--max-steps", "2", "--epochs", "1", "--threads", "1", "--no-memory-check",
                                            "--checkpoint", ck, "--save-params", params.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let file = dir.appendingPathComponent("mlp.safetensors")
        try export(ck, file)
        try python(#"""
        import sys, numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file
        sd = load_file(sys.argv[1])
        order = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
        shapes = [(16, 784), (16,), (8, 16), (8,), (10, 8), (10,)]
        assert sorted(sd) == sorted(order) and [sd[n].shape for n in order] == shapes, {k: v.shape for k, v in sd.items()}
        flat = np.concatenate([sd[n].ravel() for n in order])
        assert np.array_equal(flat.view(np.uint32), np.fromfile(sys.argv[2], "<u4"))
        meta = safe_open(sys.argv[1], "np").metadata()
        assert meta["model"] == "mlp" and meta["sizes"] == "784-16-8-10" and meta["step"] == "2", meta
        """#, [file.path, params.path], in: dir)
    }

    func testBadFilesAreRefusedInOneLineNamingTheProblem() throws {
        let dir = try temporaryDirectory()
        try python(#"""
        import sys, json, struct, numpy as np
        from safetensors.numpy import save_file
        import nanogpt_numpy as g
        corpus = open(sys.argv[1], "rb").read().decode("ascii")
        vocab = "".join(sorted(set(corpus)))
        def good():
            sd = {n: np.full(s, 0.01, np.float32) for n, s in g.shapes(2, 84, 16, 32).items()}
            sd["lm_head.weight"] = sd["transformer.wte.weight"].copy()
            return sd
        meta = {"model": "gpt", "vocab_size": "84", "block_size": "16", "n_layer": "2", "n_head": "2", "n_embd": "32"}
        save_file(good(), "good.safetensors", metadata={**meta, "vocab": vocab})
        sd = good(); sd["transformer.h.1.attn.c_attn.weight"] = np.zeros((32, 96), np.float32)
        save_file(sd, "shape.safetensors")
        save_file(good(), "vocab.safetensors", metadata={**meta, "vocab": vocab[::-1]})
        sd = good(); sd["transformer.h.0.attn.bias"] = np.zeros((1, 1, 16, 16), np.float32)
        save_file(sd, "extra.safetensors")
        sd = good(); del sd["transformer.wpe.weight"]
        save_file(sd, "missing.safetensors")
        sd = good(); sd["lm_head.weight"][0, 0] = 1
        save_file(sd, "untied.safetensors")
        """#, [PythonVenv.corpus], in: dir)
        let good = try Data(contentsOf: dir.appendingPathComponent("good.safetensors"))
        try good.prefix(good.count - 100).write(to: dir.appendingPathComponent("truncated.safetensors"))
        var beyond = good
        beyond.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(good.count).littleEndian) { Data($0) })
        try beyond.write(to: dir.appendingPathComponent("beyond.safetensors"))
        var notJSON = good
        notJSON[8] = UInt8(ascii: "x")
        try notJSON.write(to: dir.appendingPathComponent("notjson.safetensors"))
        try Data(repeating: 0x5A, count: 4096).write(to: dir.appendingPathComponent("noise.bin"))

        let cases: [(String, String)] = [
            ("shape", "tensor transformer.h.1.attn.c_attn.weight has shape [32, 96], this model's is [96, 32]"),
            ("vocab", "its vocabulary (84 characters) is not this corpus's 84 characters in the same order"),
            ("extra", "tensor transformer.h.0.attn.bias is not one of this model's"),
            ("missing", "no tensor transformer.wpe.weight (shape [16, 32])"),
            ("untied", "tensor lm_head.weight differs from transformer.wte.weight"),
            ("truncated", "is not a safetensors file: tensor"),
            ("beyond", "is not a safetensors file: header length \(good.count) runs past the end of the file (\(good.count) bytes)"),
            ("notjson", "is not a safetensors file: its"),
        ]
        for (name, expected) in cases {
            let path = dir.appendingPathComponent("\(name).safetensors").path
            let r = try Launcher.run(ranks: 2, Self.gpt + ["--batch-size", "4", "--steps", "1", "--init-from", path])
            XCTAssertNotEqual(r.status, 0, name)
            let lines = errorLines(r)
            XCTAssertEqual(lines.count, 1, "\(name): \(r.stderr)")
            XCTAssertTrue(lines.first?.hasPrefix("error: --init-from \(path)") ?? false, "\(name): \(r.stderr)")
            XCTAssertTrue(lines.first?.contains(expected) ?? false, "\(name): expected \(expected) in \(r.stderr)")
        }
        let noise = dir.appendingPathComponent("noise.bin").path
        let r = try Launcher.run(ranks: 2, Self.gpt + ["--batch-size", "4", "--steps", "1", "--init-from", noise])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(errorLines(r).count, 1, r.stderr)
        XCTAssertTrue(errorLines(r).first?.contains("--init-from \(noise) is not a safetensors file: header length") ?? false, r.stderr)
        // The good file starts a run; sample refuses the one of another vocabulary order.
        let ok = try Launcher.run(ranks: 2, Self.gpt + ["--batch-size", "4", "--steps", "1", "--init-from", dir.appendingPathComponent("good.safetensors").path])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let s = try Launcher.run(ranks: nil, ["sample", "--checkpoint", dir.appendingPathComponent("vocab.safetensors").path])
        XCTAssertNotEqual(s.status, 0)
        XCTAssertEqual(errorLines(s).count, 1, s.stderr)
        XCTAssertTrue(s.stderr.contains("in another order; pass the --data-dir it was trained on"), s.stderr)
    }

    /// nanoGPT's GPT (bias=False) in numpy, float64, with lion-dist's tanh GELU.
    static let module = #"""
    import json, struct
    import numpy as np

    def names(n_layer):
        out = ["transformer.wte.weight", "transformer.wpe.weight"]
        for i in range(n_layer):
            out += [f"transformer.h.{i}.{s}" for s in ("ln_1.weight", "attn.c_attn.weight", "attn.c_proj.weight",
                                                       "ln_2.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")]
        return out + ["transformer.ln_f.weight"]

    def shapes(n_layer, V, T, C):
        s = {"transformer.wte.weight": (V, C), "transformer.wpe.weight": (T, C)}
        for i in range(n_layer):
            p = f"transformer.h.{i}."
            s.update({p + "ln_1.weight": (C,), p + "attn.c_attn.weight": (3 * C, C), p + "attn.c_proj.weight": (C, C),
                      p + "ln_2.weight": (C,), p + "mlp.c_fc.weight": (4 * C, C), p + "mlp.c_proj.weight": (C, 4 * C)})
        s["transformer.ln_f.weight"] = (C,)
        return s

    def raw_tensors(path):
        """name -> (dtype, shape, bytes), parsed from the bytes as the format specifies."""
        data = open(path, "rb").read()
        n = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8:8 + n])
        header.pop("__metadata__", None)
        return {k: (v["dtype"], v["shape"], data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]) for k, v in header.items()}

    def validation_windows(corpus_path, count, T):
        text = np.frombuffer(open(corpus_path, "rb").read(), np.uint8)
        table = np.full(256, -1); symbols = np.unique(text); table[symbols] = np.arange(len(symbols))
        val = table[text[len(text) * 9 // 10:]]
        last = len(val) - (T + 1)
        starts = [0] if count == 1 else [i * last // (count - 1) for i in range(count)]
        return np.stack([val[s:s + T + 1] for s in starts])

    def layernorm(x, w):
        m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-5) * w

    def gelu(x):
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))

    def loss(sd, n_head, windows):
        f = {k: v.astype(np.float64) for k, v in sd.items()}
        idx, targets = windows[:, :-1], windows[:, 1:]
        B, T = idx.shape
        x = f["transformer.wte.weight"][idx] + f["transformer.wpe.weight"][:T]
        C = x.shape[-1]; hs = C // n_head
        causal = np.tril(np.ones((T, T), bool))
        i = 0
        while f"transformer.h.{i}.ln_1.weight" in f:
            p = f"transformer.h.{i}."
            q, k, v = np.split(layernorm(x, f[p + "ln_1.weight"]) @ f[p + "attn.c_attn.weight"].T, 3, axis=-1)
            q, k, v = (t.reshape(B, T, n_head, hs).transpose(0, 2, 1, 3) for t in (q, k, v))
            att = np.where(causal, q @ k.transpose(0, 1, 3, 2) / np.sqrt(hs), -np.inf)
            att = np.exp(att - att.max(-1, keepdims=True)); att /= att.sum(-1, keepdims=True)
            y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
            x = x + y @ f[p + "attn.c_proj.weight"].T
            x = x + gelu(layernorm(x, f[p + "ln_2.weight"]) @ f[p + "mlp.c_fc.weight"].T) @ f[p + "mlp.c_proj.weight"].T
            i += 1
        logits = layernorm(x, f["transformer.ln_f.weight"]) @ f["lm_head.weight"].T
        m = logits.max(-1, keepdims=True)
        lse = (m + np.log(np.exp(logits - m).sum(-1, keepdims=True)))[..., 0]
        picked = np.take_along_axis(logits, targets[..., None], -1)[..., 0]
        return float((lse - picked).mean())
    """#
}

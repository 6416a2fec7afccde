import Foundation
import XCTest

/// `lion-dist bench gpt --json`, one process without mpirun: the documented keys, positive
/// figures, and per-layer times that add up to no more than the step (no timed assertions).
final class BenchGPTTests: XCTestCase {
    static let layers = ["embedding", "ln_1", "c_attn", "attention", "c_proj", "ln_2", "c_fc", "gelu", "mlp.c_proj",
                         "ln_f", "head+loss"]
    static let stepKeys: Set<String> = [
        "layer", "step_ms", "median_step_ms", "min_step_ms", "optimizer_ms", "tokens_per_s", "model_gflops", "gemm", "gemm_gflops", "mfu",
        "compute_dtype", "threads", "batch", "n_layer", "n_head", "n_embd", "block_size", "vocab_size", "parameters",
        "optimizer", "steps", "cpu"]

    func testJSONKeysPositiveFiguresAndLayersWithinTheStep() throws {
        for dtype in ["fp32", "bf16"] {
            let r = try Launcher.run(ranks: nil, ["bench", "gpt", "--json", "--steps", "2", "--n-layer", "2", "--n-embd", "64",
                                                  "--block-size", "32", "--batch-size", "4", "--threads", "1",
                                                  "--compute-dtype", dtype])
            if dtype == "bf16" && r.stderr.contains("bf16 would be emulated") {
                XCTAssertNotEqual(r.status, 0)
                XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
                continue
            }
            XCTAssertEqual(r.status, 0, r.stderr)
            let rows = try r.stdout.split(separator: "\n").map {
                try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
            }
            let expected = Self.layers + (dtype == "bf16" ? ["bf16_weights"] : []) + ["step"]
            XCTAssertEqual(rows.map { $0["layer"] as? String }, expected, r.stdout)
            guard rows.count == expected.count, let step = rows.last else { continue }
            var layerMs = 0.0
            for row in rows.dropLast() {
                let name = row["layer"] as? String ?? "?"
                XCTAssertEqual(Set(row.keys), ["layer", "forward_ms", "backward_ms", "cpu"], name)
                XCTAssertEqual(row["cpu"] as? String, step["cpu"] as? String, name)
                let f = try XCTUnwrap(row["forward_ms"] as? Double, name), b = try XCTUnwrap(row["backward_ms"] as? Double, name)
                XCTAssertGreaterThan(f, 0, "\(dtype) \(name) forward")
                // The bf16 weight copy happens once per pass, before the forward.
                if name == "bf16_weights" { XCTAssertEqual(b, 0) } else { XCTAssertGreaterThan(b, 0, "\(dtype) \(name) backward") }
                layerMs += f + b
            }
            XCTAssertEqual(Set(step.keys), Self.stepKeys)
            for key in ["step_ms", "median_step_ms", "min_step_ms", "optimizer_ms", "tokens_per_s", "model_gflops", "gemm_gflops", "mfu"] {
                XCTAssertGreaterThan(step[key] as? Double ?? 0, 0, "\(dtype) \(key)")
            }
            let stepMs = try XCTUnwrap(step["step_ms"] as? Double), optimizerMs = try XCTUnwrap(step["optimizer_ms"] as? Double)
            // Each value is rounded to 4 decimals: allow that much per row.
            XCTAssertLessThanOrEqual(layerMs + optimizerMs, stepMs + 1e-4 * Double(rows.count), "\(dtype): layers exceed the step")
            XCTAssertEqual(step["compute_dtype"] as? String, dtype)
            // The CPU as /proc/cpuinfo names it, with the features bf16's speed depends on.
            let cpu = try XCTUnwrap(step["cpu"] as? String)
            let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
            if let name = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") })?.split(separator: ":").last {
                XCTAssertTrue(cpu.hasPrefix(name.trimmingCharacters(in: .whitespaces) + " ("), cpu)
            }
            XCTAssertTrue(cpu.contains("avx512_bf16") && cpu.contains("amx_bf16"), cpu)
            XCTAssertEqual(step["gemm"] as? String, dtype == "bf16" ? "bf16 oneDNN" : "sgemm")
            XCTAssertEqual(step["threads"] as? Int, 1)
            XCTAssertEqual(step["batch"] as? Int, 4)
            XCTAssertEqual(step["steps"] as? Int, 2)
            XCTAssertEqual(step["n_layer"] as? Int, 2)
            XCTAssertEqual(step["n_embd"] as? Int, 64)
            XCTAssertEqual(step["block_size"] as? Int, 32)
            XCTAssertEqual(step["optimizer"] as? String, "adamw")
            // Parameters of the shape: V C + T C + L (12 C^2 + 2 C) + C, vocabulary 84.
            XCTAssertEqual(step["parameters"] as? Int, 84 * 64 + 32 * 64 + 2 * (12 * 64 * 64 + 2 * 64) + 64)
            XCTAssertLessThanOrEqual(step["min_step_ms"] as? Double ?? .infinity, step["median_step_ms"] as? Double ?? 0)
            let median = try XCTUnwrap(step["median_step_ms"] as? Double), tps = try XCTUnwrap(step["tokens_per_s"] as? Double)
            XCTAssertEqual(tps, 4 * 32 / (median / 1000), accuracy: 1e-3 * tps)
            let model = try XCTUnwrap(step["model_gflops"] as? Double), gemm = try XCTUnwrap(step["gemm_gflops"] as? Double)
            XCTAssertEqual(step["mfu"] as? Double ?? 0, model / gemm, accuracy: 1e-3)
        }
    }

}

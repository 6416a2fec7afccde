import Foundation
import XCTest
@testable import Model

/// A benchmark, not a test: prints the time of attention forward + backward, the plain kernels
/// (PlainAttention.swift) against the fused one at tiles of 32, 64 and 128 rows, interleaved
/// round by round, on one thread, at the nanoGPT shape (6 heads, 384 wide, T = 256, batch 12)
/// and the baby GPT's (4 heads, 128 wide, T = 64, batch 12). Runs only with LION_DIST_BENCH=1,
/// in a release build:
///   LION_DIST_BENCH=1 swift test -c release --filter GPTAttentionBenchmarkTests
final class GPTAttentionBenchmarkTests: XCTestCase {
    func testAttentionForwardBackwardTimes() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["LION_DIST_BENCH"] != nil, "a benchmark: set LION_DIST_BENCH=1")
        BLASThreads.set(1)
        for (name, B, NH, C, T, rounds) in [("nanoGPT", 12, 6, 384, 256, 15), ("baby GPT", 12, 4, 128, 64, 41)] {
            var r = TestRandom(seed: 1)
            let qkv = r.floats(B * T * 3 * C, -1, 1), dout = r.floats(B * T * C, -0.01, 0.01)
            let out = FlatBuffer(count: B * T * C), dqkv = FlatBuffer(count: B * T * 3 * C)
            let att = FlatBuffer(count: B * NH * T * T), datt = FlatBuffer(count: B * NH * T * T)
            let lse = FlatBuffer(count: B * NH * T), tiles = FlatBuffer(count: attentionScratchFloats(T: T, tile: 128))
            let variants: [(String, () -> Void)] = [
                ("plain forward", {
                    plainAttentionForward(out: out.pointer, att: att.pointer, qkv: qkv, B: B, T: T, C: C, NH: NH)
                }),
                ("plain backward", {
                    plainAttentionBackward(dqkv: dqkv.pointer, scratch: datt.pointer, dout: dout, qkv: qkv, att: att.pointer,
                                           B: B, T: T, C: C, NH: NH)
                }),
            ] + [32, 64, 128].flatMap { tile in [
                ("fused forward, tile \(tile)", {
                    attentionForward(out: out.pointer, lse: lse.pointer, qkv: qkv, scratch: tiles.pointer, slots: 1,
                                     B: B, T: T, C: C, NH: NH, tile: tile)
                }),
                ("fused backward, tile \(tile)", {
                    attentionBackward(dqkv: dqkv.pointer, dout: dout, qkv: qkv, out: out.pointer, lse: lse.pointer,
                                      scratch: tiles.pointer, slots: 1, B: B, T: T, C: C, NH: NH, tile: tile)
                }),
            ] }
            var times = [[Double]](repeating: [], count: variants.count)
            let clock = ContinuousClock()
            for round in 0..<(rounds + 2) {
                for (v, variant) in variants.enumerated() {
                    let start = clock.now
                    variant.1()
                    let d = (clock.now - start).components
                    if round >= 2 { times[v].append(Double(d.seconds) + Double(d.attoseconds) * 1e-18) }
                }
            }
            print("attention forward + backward, \(name) (B \(B), NH \(NH), C \(C), T \(T)), 1 thread, median of \(rounds):")
            for (v, variant) in variants.enumerated() {
                let t = times[v].sorted()[rounds / 2]
                print("  \(variant.0): \(String(format: "%.2f", t * 1e3)) ms")
            }
        }
    }
}

import XCTest
import LionEngine

/// Sign-vote Lion's kernels (pack, vote, apply) on every path this CPU supports, against
/// `SignVoteReference` element by element: sizes that are not multiples of 64 (or 16), zeros
/// in c (the vote toward zero), odd and even voter counts with ties.
final class SignVoteKernelTests: XCTestCase {
    let lengths = [0, 1, 15, 16, 17, 63, 64, 65, 127, 129, 1000, 4097]
    var paths: [KernelPath] { KernelPath.allCases.filter(\.isSupported) }

    func bit(_ words: [UInt64], _ i: Int) -> Int { Int((words[i / 64] >> UInt64(i % 64)) & 1) }

    func testPackMatchesReferenceElementByElement() {
        for path in paths {
            for n in lengths {
                var rng = TestRandom(seed: UInt64(n) &+ 900)
                // About 1 in 16 of g and m exactly zero: some c are exactly 0 and take p's side.
                let p = rng.floats(n), g = rng.floats(n)
                var m = rng.floats(n, scale: 0.01)
                for i in stride(from: 0, to: n, by: 5) { m[i] = 0 }
                let k = SignVoteConstants(beta1: 0.9, beta2: 0.99, gradScale: 0.5)
                let words = SignVoteKernel.words(n)
                var bits = [UInt64](repeating: .max, count: words + 1)   // a guard word after
                var mk = m
                SignVoteKernel.pack(params: p, grads: g, m: &mk, bits: &bits, count: n, k, path: path)
                var mr = m
                for i in 0..<n {
                    let v = SignVoteReference.vote(p: p[i], g: g[i], m: &mr[i], beta1: 0.9, beta2: 0.99, gradScale: 0.5)
                    XCTAssertEqual(bit(bits, i), v > 0 ? 1 : 0, "\(path) n=\(n) element \(i)")
                    if bit(bits, i) != (v > 0 ? 1 : 0) { return }
                }
                for i in n..<(words * 64) { XCTAssertEqual(bit(bits, i), 0, "\(path) n=\(n): bit \(i) past the end is set") }
                XCTAssertEqual(bits[words], .max, "\(path) n=\(n): wrote past its words")
                assertBitEqual(mk, mr, "\(path) n=\(n) momentum")
            }
        }
    }

    func testZeroSignalVotesTowardZero() {
        // c == 0 exactly (m = g = 0): +1 (p decreases) where p > 0, -1 where p <= 0.
        let p: [Float] = [0.5, -0.5, 0, -0.0]
        for path in paths {
            var m = [Float](repeating: 0, count: 4), bits: [UInt64] = [0]
            SignVoteKernel.pack(params: p, grads: [0, 0, 0, 0], m: &m, bits: &bits, count: 4,
                                SignVoteConstants(beta1: 0.9, beta2: 0.99), path: path)
            XCTAssertEqual(bits[0], 0b0001, "\(path)")
        }
    }

    func testVoteMatchesMajorityWithTies() {
        for voters in 1...9 {
            for words in [1, 3, 17] {
                var rng = TestRandom(seed: UInt64(voters * 100 + words))
                let stride = words + 2
                let planes = (0..<(voters * stride)).map { _ in rng.next() }
                var sign = [UInt64](repeating: 0, count: words), nonzero = sign
                SignVoteKernel.vote(planes: planes, stride: stride, voters: voters, words: words, sign: &sign, nonzero: &nonzero)
                var ties = 0
                for i in 0..<(words * 64) {
                    let votes = (0..<voters).map { q in bit(Array(planes[(q * stride)..<(q * stride + words)]), i) == 1 ? 1 : -1 }
                    let want = SignVoteReference.majority(votes)
                    if want == 0 { ties += 1 }
                    let got = bit(nonzero, i) == 0 ? 0 : (bit(sign, i) == 1 ? 1 : -1)
                    XCTAssertEqual(got, want, "W=\(voters) words=\(words) element \(i)")
                    if got != want { return }
                }
                if voters % 2 == 0 { XCTAssertGreaterThan(ties, 0, "W=\(voters): the random planes should hold ties") }
                else { XCTAssertEqual(ties, 0) }
            }
        }
    }

    func testVoteOfManyVoters() {
        // 300 voters (9-bit counters): element i gets 150 + (i % 3) - 1 votes for +1.
        let voters = 300, words = 1
        var planes = [UInt64](repeating: 0, count: voters)
        for i in 0..<64 {
            for q in 0..<(149 + i % 3) { planes[q] |= 1 << UInt64(i) }
        }
        var sign: [UInt64] = [0], nonzero: [UInt64] = [0]
        SignVoteKernel.vote(planes: planes, stride: words, voters: voters, words: words, sign: &sign, nonzero: &nonzero)
        for i in 0..<64 {
            let want = [-1, 0, 1][i % 3]
            XCTAssertEqual(bit(nonzero, i) == 0 ? 0 : (bit(sign, i) == 1 ? 1 : -1), want, "element \(i)")
        }
    }

    func testApplyMatchesReferenceAtAnyBitOffset() {
        for path in paths {
            for n in lengths {
                for first in [0, 1, 17, 49, 63, 64, 100] {
                    var rng = TestRandom(seed: UInt64(n * 7 + first))
                    let words = SignVoteKernel.words(first + n) + 1
                    let sign = (0..<words).map { _ in rng.next() }, nonzero = (0..<words).map { _ in rng.next() }
                    let p = rng.floats(n)
                    var pk = p
                    SignVoteKernel.apply(params: &pk, sign: sign, nonzero: nonzero, first: first, count: n, lr: 3e-4, decay: 0.99997,
                                         path: path)
                    let pr = (0..<n).map { i -> Float in
                        let v = bit(nonzero, first + i) == 0 ? 0 : (bit(sign, first + i) == 1 ? 1 : -1)
                        return SignVoteReference.apply(p: p[i], vote: v, lr: 3e-4, decay: 0.99997)
                    }
                    assertBitEqual(pk, pr, "\(path) n=\(n) first=\(first)")
                }
            }
        }
    }

    func testCountsAndAverageApplyMatchReference() {
        for voters in [1, 2, 3, 4, 7, 8] {
            let bits = SignVoteKernel.counterBits(voters: voters)
            XCTAssertEqual(bits, String(voters, radix: 2).count)
            for n in [1, 17, 64, 130] {
                var rng = TestRandom(seed: UInt64(voters * 1000 + n))
                let words = SignVoteKernel.words(n), stride = words + 1
                let planes = (0..<(voters * stride)).map { _ in rng.next() }
                var counters = [UInt64](repeating: 0, count: bits * words)
                SignVoteKernel.counts(planes: planes, stride: stride, voters: voters, words: words, counters: &counters, counterStride: words)
                let p = rng.floats(n)
                for path in paths {
                    var pk = p
                    SignVoteKernel.applyAverage(params: &pk, counters: counters, counterStride: words, voters: voters,
                                                first: 0, count: n, lr: 3e-4, decay: 0.99997, path: path)
                    let pr = (0..<n).map { i -> Float in
                        let votes = (0..<voters).map { q in bit(Array(planes[(q * stride)..<(q * stride + words)]), i) == 1 ? 1 : -1 }
                        return SignVoteReference.apply(p: p[i], average: SignVoteReference.average(votes), lr: 3e-4, decay: 0.99997)
                    }
                    assertBitEqual(pk, pr, "\(path) W=\(voters) n=\(n) average")
                }
            }
        }
    }
}

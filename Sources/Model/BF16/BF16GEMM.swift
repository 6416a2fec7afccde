import CDNNL

/// Row-major bf16 products through oneDNN's matmul primitive, with `sgemm`'s signature:
/// C (M, N) fp32 = alpha op(A) op(B), plus C when `accumulate`; A and B are bf16 bit patterns
/// (`BF16Convert.narrow`), products accumulate in fp32. op(A) is (M, K): A itself is (M, K)
/// rows lda apart, or with `transA` (K, M) rows lda apart; likewise op(B) (K, N) from B (K, N)
/// or, with `transB`, (N, K), rows ldb apart. C's rows are ldc apart; without `accumulate` the
/// M x N block is overwritten (the gaps between rows are not touched). C may instead be bf16
/// (`cBF16`): the fp32 sums rounded to nearest even once, as oneDNN writes them (no `accumulate`).
///
/// Describe once, execute many times: the first product of each (shape, leading dimensions,
/// transposes, alpha, accumulate, threads) creates a primitive (slow: ~0.1-1 ms) and memory
/// objects; later ones only point those memory objects at the caller's buffers (no copies)
/// and execute. One engine and one stream per instance.
///
/// Not thread-safe: use an instance from one thread at a time (the cached memory objects are
/// re-pointed per call). Threads that multiply concurrently each own an instance.
///
/// ```swift
/// let gemm = BF16GEMM(threads: 1)
/// gemm.gemm(false, true, M: n, N: o, K: i, x16, lda: i, w16, ldb: i, out, ldc: o, accumulate: false)  // out = x W^T
/// ```
public final class BF16GEMM {
    /// oneDNN's OpenMP threads for each product (set on the calling thread before executing).
    public var threads: Int {
        didSet { precondition(threads >= 1, "oneDNN threads must be >= 1, got \(threads)") }
    }

    private let engine: dnnl_engine_t
    private let stream: dnnl_stream_t
    private var cache: [Key: Primitive] = [:]

    struct Key: Hashable {
        var M, N, K, lda, ldb, ldc, threads: Int
        var transA, transB, accumulate: Bool
        var alphaBits: UInt32
        var cBF16 = false
    }

    /// A primitive and the memory objects it reads and writes, destroyed together.
    final class Primitive {
        let primitive: dnnl_primitive_t
        let a, b, c: dnnl_memory_t
        let implementation: String

        init(_ key: Key, engine: dnnl_engine_t) {
            // op(A) (M, K), op(B) (K, N), C (M, N) as strides: a transposed operand is the same
            // memory read column by column.
            var aDesc = dnnl_memory_desc_t(), bDesc = dnnl_memory_desc_t(), cDesc = dnnl_memory_desc_t()
            func describe(_ desc: inout dnnl_memory_desc_t, _ rows: Int, _ cols: Int, _ ld: Int, _ trans: Bool,
                          _ type: dnnl_data_type_t) {
                let dims: [Int64] = [Int64(rows), Int64(cols)]
                let strides: [Int64] = trans ? [1, Int64(ld)] : [Int64(ld), 1]
                check(dnnl_memory_desc_init_by_strides(&desc, 2, dims, type, strides), "memory descriptor")
            }
            describe(&aDesc, key.M, key.K, key.lda, key.transA, dnnl_bf16)
            describe(&bDesc, key.K, key.N, key.ldb, key.transB, dnnl_bf16)
            describe(&cDesc, key.M, key.N, key.ldc, false, key.cBF16 ? dnnl_bf16 : dnnl_f32)
            var desc = dnnl_matmul_desc_t()
            check(dnnl_matmul_desc_init(&desc, &aDesc, &bDesc, nil, &cDesc), "matmul descriptor")

            var attr: dnnl_primitive_attr_t?
            check(dnnl_primitive_attr_create(&attr), "attributes")
            defer { dnnl_primitive_attr_destroy(attr) }
            var alpha = Float(bitPattern: key.alphaBits)
            if alpha != 1 { check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha), "alpha") }
            if key.accumulate {
                // dst = alpha A B + 1 * dst: the scales apply before the sum post-op.
                var ops: dnnl_post_ops_t?
                check(dnnl_post_ops_create(&ops), "post-ops")
                defer { dnnl_post_ops_destroy(ops) }
                check(dnnl_post_ops_append_sum(ops, 1), "sum post-op")
                check(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops")
            }
            var pd: dnnl_primitive_desc_t?
            check(withUnsafePointer(to: &desc) { dnnl_primitive_desc_create(&pd, $0, attr, engine, nil) },
                  "matmul M \(key.M) N \(key.N) K \(key.K)")
            defer { dnnl_primitive_desc_destroy(pd) }
            var info: UnsafePointer<CChar>?
            check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info), "implementation")
            implementation = info.map { String(cString: $0) } ?? "?"
            var p: dnnl_primitive_t?
            check(dnnl_primitive_create(&p, pd), "primitive")
            primitive = p!
            func memory(_ desc: inout dnnl_memory_desc_t) -> dnnl_memory_t {
                var m: dnnl_memory_t?
                check(dnnl_memory_create(&m, &desc, engine, nil), "memory")
                return m!
            }
            a = memory(&aDesc)
            b = memory(&bDesc)
            c = memory(&cDesc)
        }

        deinit {
            dnnl_memory_destroy(a)
            dnnl_memory_destroy(b)
            dnnl_memory_destroy(c)
            dnnl_primitive_destroy(primitive)
        }
    }

    public init(threads: Int = ComputeThreads.count) {
        precondition(threads >= 1, "oneDNN threads must be >= 1, got \(threads)")
        self.threads = threads
        var e: dnnl_engine_t?
        check(dnnl_engine_create(&e, dnnl_cpu, 0), "CPU engine")
        engine = e!
        var s: dnnl_stream_t?
        check(dnnl_stream_create(&s, engine, dnnl_stream_default_flags.rawValue), "stream")
        stream = s!
    }

    deinit {
        cache.removeAll()
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    /// Primitives created so far (one per distinct key).
    public var cachedPrimitives: Int { cache.count }

    public func gemm(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1,
                     _ a: UnsafePointer<UInt16>, lda: Int, _ b: UnsafePointer<UInt16>, ldb: Int,
                     _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        gemm(transA, transB, M: M, N: N, K: K, alpha: alpha, a, lda: lda, b, ldb: ldb, UnsafeMutableRawPointer(c), ldc: ldc,
             accumulate: accumulate, cBF16: false)
    }

    /// The same with a bf16 C (overwritten: C = bf16(alpha op(A) op(B))).
    public func gemm(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1,
                     _ a: UnsafePointer<UInt16>, lda: Int, _ b: UnsafePointer<UInt16>, ldb: Int,
                     _ c: UnsafeMutablePointer<UInt16>, ldc: Int) {
        gemm(transA, transB, M: M, N: N, K: K, alpha: alpha, a, lda: lda, b, ldb: ldb, UnsafeMutableRawPointer(c), ldc: ldc,
             accumulate: false, cBF16: true)
    }

    private func gemm(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, alpha: Float,
                      _ a: UnsafePointer<UInt16>, lda: Int, _ b: UnsafePointer<UInt16>, ldb: Int,
                      _ c: UnsafeMutableRawPointer, ldc: Int, accumulate: Bool, cBF16: Bool) {
        precondition(M >= 0 && N >= 0 && K >= 0, "bf16 gemm sizes must be >= 0, got M \(M) N \(N) K \(K)")
        precondition(lda >= max(1, transA ? M : K) && ldb >= max(1, transB ? K : N) && ldc >= max(1, N),
                     "bf16 gemm leading dimensions too small: lda \(lda) ldb \(ldb) ldc \(ldc) for M \(M) N \(N) K \(K)")
        if M == 0 || N == 0 { return }
        if K == 0 {  // an empty sum: C = 0 (or unchanged when accumulating), as sgemm
            let size = cBF16 ? 2 : 4
            if !accumulate { for r in 0..<M { (c + r * ldc * size).initializeMemory(as: UInt8.self, repeating: 0, count: N * size) } }
            return
        }
        let p = primitive(Key(M: M, N: N, K: K, lda: lda, ldb: ldb, ldc: ldc, threads: threads,
                              transA: transA, transB: transB, accumulate: accumulate, alphaBits: alpha.bitPattern, cBF16: cBF16))
        check(dnnl_memory_set_data_handle(p.a, UnsafeMutableRawPointer(mutating: a)), "source pointer")
        check(dnnl_memory_set_data_handle(p.b, UnsafeMutableRawPointer(mutating: b)), "weights pointer")
        check(dnnl_memory_set_data_handle(p.c, c), "destination pointer")
        if DNNLThreads.current != threads { DNNLThreads.set(threads) }
        let args = [dnnl_exec_arg_t(arg: CDNNL_ARG_SRC(), memory: p.a),
                    dnnl_exec_arg_t(arg: CDNNL_ARG_WEIGHTS(), memory: p.b),
                    dnnl_exec_arg_t(arg: CDNNL_ARG_DST(), memory: p.c)]
        check(dnnl_primitive_execute(p.primitive, stream, Int32(args.count), args), "matmul")
        check(dnnl_stream_wait(stream), "stream wait")
    }

    /// oneDNN's name of the kernel that runs this product ("brg:avx512_core_bf16"), for the banner.
    public func implementation(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1,
                               lda: Int, ldb: Int, ldc: Int, accumulate: Bool) -> String {
        primitive(Key(M: M, N: N, K: K, lda: lda, ldb: ldb, ldc: ldc, threads: threads,
                      transA: transA, transB: transB, accumulate: accumulate, alphaBits: alpha.bitPattern)).implementation
    }

    private func primitive(_ key: Key) -> Primitive {
        if let p = cache[key] { return p }
        // oneDNN sizes a primitive's blocking for the calling thread's OpenMP count at creation.
        if DNNLThreads.current != key.threads { DNNLThreads.set(key.threads) }
        let p = Primitive(key, engine: engine)
        cache[key] = p
        return p
    }
}

/// A failed oneDNN call is a programming error here (shapes are checked before): stop with its status.
func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
    if status != dnnl_success {
        fatalError("oneDNN \(what()) failed: \(String(cString: dnnl_status2str(status)))")
    }
}

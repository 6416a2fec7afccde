import COpenBLAS

/// OpenBLAS's thread count. Set it explicitly so that ranks x BLAS threads x pool threads
/// stay within the cores a rank owns; results are deterministic for a fixed count.
public enum BLASThreads {
    public static func set(_ n: Int) {
        precondition(n >= 1, "BLAS threads must be >= 1")
        openblas_set_num_threads(Int32(n))
    }

    /// The count last set: the GPT's own parallel loops use the same budget.
    public static var current: Int { Int(openblas_get_num_threads()) }
}

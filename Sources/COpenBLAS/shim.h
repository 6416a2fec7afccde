#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
#include <cblas.h>
#include <stdlib.h>
// openblas_set_num_threads / openblas_get_num_threads / openblas_get_corename come from
// OpenBLAS's cblas.h.

// A DYNAMIC_ARCH OpenBLAS (Debian's) picks its kernel table at load time; these two drop it
// and pick again (reading OPENBLAS_CORETYPE). Weak: other builds do not export them.
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));

/// Makes OpenBLAS use the kernels of `coretype` (an OPENBLAS_CORETYPE name, e.g. "SkylakeX"),
/// as if the process had started with OPENBLAS_CORETYPE set: 1, or 0 when this OpenBLAS
/// cannot choose again. Call before any BLAS call is running.
static inline int lion_openblas_choose_core(const char *coretype) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return 0;
    setenv("OPENBLAS_CORETYPE", coretype, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    return 1;
}
#endif

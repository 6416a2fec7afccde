#ifndef CDNNL_SHIM_H
#define CDNNL_SHIM_H
// oneDNN's C API (Debian's libdnnl-dev 2.6, built on OpenMP). Debian ships no pkg-config file,
// so the module map links "dnnl" itself.
#include <dnnl.h>
#include <dnnl_debug.h>

// oneDNN's CPU runtime here is libgomp: the threads of a primitive are an OpenMP team of
// omp_get_max_threads() threads of the *calling* thread. omp_set_num_threads sets that count
// for the calling thread only (each thread has its own value), so a thread that runs a
// primitive sets its own budget first. Declared here (omp.h sits in GCC's private include
// directory) and linked from libgomp, the library libdnnl itself loads.
void omp_set_num_threads(int n);
int omp_get_max_threads(void);

static inline void CDNNL_set_threads(int n) { omp_set_num_threads(n); }
static inline int CDNNL_max_threads(void) { return omp_get_max_threads(); }

// Macros Swift cannot import as they are.
static inline int CDNNL_ARG_SRC(void) { return DNNL_ARG_SRC; }
static inline int CDNNL_ARG_WEIGHTS(void) { return DNNL_ARG_WEIGHTS; }
static inline int CDNNL_ARG_DST(void) { return DNNL_ARG_DST; }
#endif

#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
#include <cblas.h>
// openblas_set_num_threads / openblas_get_num_threads come from OpenBLAS's cblas.h.
#endif

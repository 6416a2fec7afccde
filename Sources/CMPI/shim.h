#ifndef CMPI_SHIM_H
#define CMPI_SHIM_H
#include <mpi.h>

// MPI's predefined handles are C macros (often casts of global addresses) that Swift
// cannot import. Each gets a static inline getter here, prefixed CMPI_.
static inline MPI_Comm CMPI_COMM_WORLD(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm CMPI_COMM_NULL(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype CMPI_FLOAT(void) { return MPI_FLOAT; }
static inline MPI_Datatype CMPI_DOUBLE(void) { return MPI_DOUBLE; }
static inline MPI_Datatype CMPI_INT64(void) { return MPI_INT64_T; }
static inline MPI_Datatype CMPI_UINT64(void) { return MPI_UINT64_T; }
static inline MPI_Datatype CMPI_UINT8(void) { return MPI_UINT8_T; }
static inline MPI_Datatype CMPI_BYTE(void) { return MPI_BYTE; }
static inline MPI_Datatype CMPI_CHAR(void) { return MPI_CHAR; }
static inline MPI_Op CMPI_SUM(void) { return MPI_SUM; }
static inline MPI_Op CMPI_MAX(void) { return MPI_MAX; }
static inline MPI_Op CMPI_MIN(void) { return MPI_MIN; }
static inline void *CMPI_IN_PLACE(void) { return MPI_IN_PLACE; }
static inline MPI_Info CMPI_INFO_NULL(void) { return MPI_INFO_NULL; }
static inline MPI_Request CMPI_REQUEST_NULL(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *CMPI_STATUS_IGNORE(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Errhandler CMPI_ERRORS_RETURN(void) { return MPI_ERRORS_RETURN; }
static inline MPI_Win CMPI_WIN_NULL(void) { return MPI_WIN_NULL; }
static inline MPI_File CMPI_FILE_NULL(void) { return MPI_FILE_NULL; }
static inline int CMPI_COMM_TYPE_SHARED(void) { return MPI_COMM_TYPE_SHARED; }
static inline int CMPI_THREAD_FUNNELED(void) { return MPI_THREAD_FUNNELED; }
static inline int CMPI_MAX_PROCESSOR_NAME(void) { return MPI_MAX_PROCESSOR_NAME; }
static inline int CMPI_MAX_ERROR_STRING(void) { return MPI_MAX_ERROR_STRING; }
static inline int CMPI_MODE_CREATE(void) { return MPI_MODE_CREATE; }
static inline int CMPI_MODE_WRONLY(void) { return MPI_MODE_WRONLY; }
static inline int CMPI_MODE_RDONLY(void) { return MPI_MODE_RDONLY; }
static inline int CMPI_SUCCESS(void) { return MPI_SUCCESS; }
static inline int CMPI_UNDEFINED(void) { return MPI_UNDEFINED; }
static inline int CMPI_LOCK_SHARED(void) { return MPI_LOCK_SHARED; }
static inline int CMPI_MODE_NOCHECK(void) { return MPI_MODE_NOCHECK; }
static inline MPI_Status *CMPI_STATUSES_IGNORE(void) { return MPI_STATUSES_IGNORE; }

// Atomics on node-shared window memory (progress counters between ranks of one node):
// a release store publishes everything written before it; an acquire load sees it.
#include <stdint.h>
static inline void CMPI_store_release_u64(volatile uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline uint64_t CMPI_load_acquire_u64(volatile uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

#endif

/*
 * What the emulated libcuda.so.1 offers its stand-in libraries (libcublas, libcudnn) beyond the driver API: the
 * implicit primary-context binding the CUDA runtime does for them, and checks that a "device" pointer really lies in
 * a device allocation, so a library call with a wrong pointer faults the context as it would on a GPU.
 */
#ifndef RETORT_EMULATED_H
#define RETORT_EMULATED_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Makes the primary context current on this thread when none is (what cudart does for cuBLAS and cuDNN); returns
 * 0 when a context is current afterwards, else a CUresult. */
int retortEmulatedBindRuntimeContext(void);

/* 0 when [p, p + bytes) lies inside one device allocation; else records an illegal-address fault on the current
 * context (sticky, as on a GPU), prints `what` to stderr and returns CUDA_ERROR_ILLEGAL_ADDRESS. */
int retortEmulatedCheckDevice(const void *p, size_t bytes, const char *what);

/* Checks every allocation's guard bytes after a library call, faulting the context when one was overwritten. */
int retortEmulatedCheckGuards(const char *what);

/* The current context's sticky error (0 when healthy). */
int retortEmulatedStickyError(void);

#ifdef __cplusplus
}
#endif

#endif

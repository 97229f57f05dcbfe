/*
 * Shows the emulated cuDNN's dependency that a real cuDNN 9 has too: libcudnn.so.9 opened by full path with
 * nothing preloaded binds, but its first convolution fails (SUBLIBRARY_LOADING_FAILED) because the engine library
 * it opens needs libcublasLt and libnvrtc; with both loaded first, as the JNI bridge does, the same convolution
 * runs. Usage: engines_check CUDNN_DIR CUDA_LIB_DIR; exit 0 when both outcomes are as described.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

int cuInit(unsigned flags);
int cuCtxCreate_v2(void **ctx, unsigned flags, int device);
int cuMemAlloc_v2(unsigned long long *p, size_t bytes);

typedef int (*create_fn)(void **);
typedef int (*set4d_fn)(void *, int, int, int, int, int, int);
typedef int (*setconv_fn)(void *, int, int, int, int, int, int, int, int);
typedef int (*fwd_fn)(void *, const float *, void *, const void *, void *, const void *, void *, int, void *, size_t,
                      const float *, void *, void *);

static int forward(void *cudnn) {
    void *h, *x, *w, *c, *y;
    unsigned long long px, pw, py;
    const float one = 1, zero = 0;
    ((create_fn)dlsym(cudnn, "cudnnCreate"))(&h);
    ((create_fn)dlsym(cudnn, "cudnnCreateTensorDescriptor"))(&x);
    ((create_fn)dlsym(cudnn, "cudnnCreateTensorDescriptor"))(&y);
    ((create_fn)dlsym(cudnn, "cudnnCreateFilterDescriptor"))(&w);
    ((create_fn)dlsym(cudnn, "cudnnCreateConvolutionDescriptor"))(&c);
    ((set4d_fn)dlsym(cudnn, "cudnnSetTensor4dDescriptor"))(x, 0, 0, 1, 1, 3, 3);
    ((set4d_fn)dlsym(cudnn, "cudnnSetTensor4dDescriptor"))(y, 0, 0, 1, 1, 3, 3);
    ((set4d_fn)dlsym(cudnn, "cudnnSetFilter4dDescriptor"))(w, 0, 0, 1, 1, 1, 1);
    ((setconv_fn)dlsym(cudnn, "cudnnSetConvolution2dDescriptor"))(c, 0, 0, 1, 1, 1, 1, 1, 0);
    cuMemAlloc_v2(&px, 36);
    cuMemAlloc_v2(&pw, 4);
    cuMemAlloc_v2(&py, 36);
    return ((fwd_fn)dlsym(cudnn, "cudnnConvolutionForward"))(h, &one, x, (void *)px, w, (void *)pw, c, 0, NULL, 0,
                                                              &zero, y, (void *)py);
}

int main(int argc, char **argv) {
    char path[4096];
    void *ctx;
    if (argc != 3 || cuInit(0) != 0 || cuCtxCreate_v2(&ctx, 0, 0) != 0) {
        fprintf(stderr, "usage: engines_check CUDNN_DIR CUDA_LIB_DIR (with the emulated libcuda.so.1)\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/libcudnn.so.9", argv[1]);
    void *cudnn = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (cudnn == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    int without = forward(cudnn);
    /* What the bridge has loaded by the time cuDNN runs: libcublasLt (with cuBLAS) and libnvrtc. */
    snprintf(path, sizeof path, "%s/libcublasLt.so.13", argv[2]);
    void *lt = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    snprintf(path, sizeof path, "%s/libnvrtc.so.13", argv[2]);
    void *nvrtc = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    int with = lt && nvrtc ? forward(cudnn) : -1;
    printf("without libcublasLt and libnvrtc loaded: status %d; with them: status %d\n", without, with);
    return without == 1008 && with == 0 ? 0 : 1;
}

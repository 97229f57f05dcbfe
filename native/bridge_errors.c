/*
 * The JNI bridge's error reporting: growable message strings, and the exceptions its calls throw, naming the call
 * and the library's own status name and text.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bridge.h"

/* ---- a growable string, for messages that list every folder tried ---- */

void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        return;
    }
    if (b->len + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)need + 1) {
            cap *= 2;
        }
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            return; /* a truncated message beats none */
        }
        b->data = grown;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
}

const char *sb_str(const sbuf *b) { return b->data ? b->data : ""; }

void sb_free(sbuf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- exceptions ---- */
void throw_new(JNIEnv *env, jclass cls, const char *fmt, ...) {
    char message[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (!(*env)->ExceptionCheck(env)) {
        (*env)->ThrowNew(env, cls, message);
    }
}

static const char *cublas_fallback_name(int status) {
    switch (status) { /* cublas_api.h, CUDA 13.0 */
    case 0: return "CUBLAS_STATUS_SUCCESS";
    case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7: return "CUBLAS_STATUS_INVALID_VALUE";
    case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "unknown cuBLAS status";
    }
}

/* Throws CudaLibraryException "<call> failed: <NAME> (<text>) [status n]<context>"; returns -1 for "return". */
int fail_cublas(JNIEnv *env, const char *call, int status, const char *context) {
    const char *name = CB.statusName ? CB.statusName(status) : NULL;
    const char *text = CB.statusString ? CB.statusString(status) : NULL;
    if (name == NULL) {
        name = cublas_fallback_name(status);
    }
    const char *hint = status == 1 ? "; cuBLAS could not initialise: is a CUDA context current and the GPU usable?"
                                   : "";
    if (text != NULL && strcmp(text, name) != 0) {
        throw_new(env, g_library_exception, "%s failed: %s (%s) [status %d]%s%s", call, name, text, status,
                  context ? context : "", hint);
    } else {
        throw_new(env, g_library_exception, "%s failed: %s [status %d]%s%s", call, name, status,
                  context ? context : "", hint);
    }
    return -1;
}

int fail_cudnn(JNIEnv *env, const char *call, int status, const char *context) {
    const char *name = DN.getErrorString ? DN.getErrorString(status) : NULL;
    char last[1024] = "";
    if (DN.getLastErrorString) {
        DN.getLastErrorString(last, sizeof last);
    }
    const char *hint = "";
    if (status == CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED || status == CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE) {
        hint = "; cuDNN 9 loads libcudnn_ops, libcudnn_cnn, libcudnn_graph and libcudnn_engines_*.so.9 from the folder"
               " of libcudnn.so.9: install the complete package (pip install nvidia-cudnn-cu13 or nvidia-cudnn-cu12)";
    } else if (status == CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH) {
        hint = "; this cuDNN build does not support this GPU: install a newer cuDNN 9";
    } else if (status == CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER) {
        hint = "; the NVIDIA driver is older than this cuDNN needs: update the driver or install a cuDNN built for"
               " an older CUDA (nvidia-cudnn-cu12)";
    }
    throw_new(env, g_library_exception, "%s failed: %s [status %d]%s%s%s%s", call, name ? name : "unknown cuDNN status",
              status, last[0] ? ": " : "", last, context ? context : "", hint);
    return -1;
}

int fail_driver(JNIEnv *env, const char *call, int result, const char *context) {
    const char *name = NULL, *text = NULL;
    if (CU.getErrorName) {
        CU.getErrorName(result, &name);
    }
    if (CU.getErrorString) {
        CU.getErrorString(result, &text);
    }
    throw_new(env, g_library_exception, "%s failed: %s (%s) [CUresult %d]%s", call, name ? name : "unknown CUresult",
              text ? text : "no description", result, context ? context : "");
    return -1;
}


JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    UNUSED(reserved);
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) {
        return JNI_ERR;
    }
    const char *names[] = { "dev/retort/backend/cuda/CudaLibraryException", "java/lang/IllegalStateException",
                            "java/lang/IllegalArgumentException" };
    jclass *slots[] = { &g_library_exception, &g_illegal_state, &g_illegal_argument };
    for (size_t i = 0; i < COUNT(names); i++) {
        jclass local = (*env)->FindClass(env, names[i]);
        if (local == NULL) {
            return JNI_ERR;
        }
        *slots[i] = (jclass)(*env)->NewGlobalRef(env, local);
        (*env)->DeleteLocalRef(env, local);
    }
    return JNI_VERSION_1_8;
}


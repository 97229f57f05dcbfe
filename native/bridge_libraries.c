/*
 * The JNI bridge, part one: finding cuBLAS, cuDNN, NVRTC and the driver along the explicit folders, the loader
 * path and the candidate folders Java computed, binding their entry points, and reporting what came from where.
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

cublas_api CB;
cudnn_api DN;
driver_api CU;

typedef struct {
    const char *name;
    void *slot; /* address of the function pointer above */
    int required;
} symbol;

#define SYM(table, field, name, required) { name, &table.field, required }

static const symbol CUBLAS_SYMBOLS[] = {
    SYM(CB, create, "cublasCreate_v2", 1),
    SYM(CB, destroy, "cublasDestroy_v2", 1),
    SYM(CB, setStream, "cublasSetStream_v2", 1),
    SYM(CB, getProperty, "cublasGetProperty", 1),
    SYM(CB, sgemm, "cublasSgemm_v2", 1),
    SYM(CB, gemmEx, "cublasGemmEx", 1),
    SYM(CB, sgemmStridedBatched, "cublasSgemmStridedBatched", 1),
    SYM(CB, statusName, "cublasGetStatusName", 0),
    SYM(CB, statusString, "cublasGetStatusString", 0),
};

static const symbol CUDNN_SYMBOLS[] = {
    SYM(DN, getVersion, "cudnnGetVersion", 1),
    SYM(DN, getCudartVersion, "cudnnGetCudartVersion", 0),
    SYM(DN, getErrorString, "cudnnGetErrorString", 1),
    SYM(DN, getLastErrorString, "cudnnGetLastErrorString", 0),
    SYM(DN, opsVersionCheck, "cudnnOpsVersionCheck", 0),
    SYM(DN, cnnVersionCheck, "cudnnCnnVersionCheck", 0),
    SYM(DN, create, "cudnnCreate", 1),
    SYM(DN, destroy, "cudnnDestroy", 1),
    SYM(DN, setStream, "cudnnSetStream", 1),
    SYM(DN, createTensor, "cudnnCreateTensorDescriptor", 1),
    SYM(DN, setTensor4d, "cudnnSetTensor4dDescriptor", 1),
    SYM(DN, destroyTensor, "cudnnDestroyTensorDescriptor", 1),
    SYM(DN, createFilter, "cudnnCreateFilterDescriptor", 1),
    SYM(DN, setFilter4d, "cudnnSetFilter4dDescriptor", 1),
    SYM(DN, destroyFilter, "cudnnDestroyFilterDescriptor", 1),
    SYM(DN, createConv, "cudnnCreateConvolutionDescriptor", 1),
    SYM(DN, setConv2d, "cudnnSetConvolution2dDescriptor", 1),
    SYM(DN, setConvMathType, "cudnnSetConvolutionMathType", 1),
    SYM(DN, destroyConv, "cudnnDestroyConvolutionDescriptor", 1),
    SYM(DN, findFwdEx, "cudnnFindConvolutionForwardAlgorithmEx", 1),
    SYM(DN, getFwdV7, "cudnnGetConvolutionForwardAlgorithm_v7", 1),
    SYM(DN, getFwdWs, "cudnnGetConvolutionForwardWorkspaceSize", 1),
    SYM(DN, convFwd, "cudnnConvolutionForward", 1),
    SYM(DN, findBwdDataEx, "cudnnFindConvolutionBackwardDataAlgorithmEx", 1),
    SYM(DN, getBwdDataV7, "cudnnGetConvolutionBackwardDataAlgorithm_v7", 1),
    SYM(DN, getBwdDataWs, "cudnnGetConvolutionBackwardDataWorkspaceSize", 1),
    SYM(DN, convBwdData, "cudnnConvolutionBackwardData", 1),
    SYM(DN, findBwdFilterEx, "cudnnFindConvolutionBackwardFilterAlgorithmEx", 1),
    SYM(DN, getBwdFilterV7, "cudnnGetConvolutionBackwardFilterAlgorithm_v7", 1),
    SYM(DN, getBwdFilterWs, "cudnnGetConvolutionBackwardFilterWorkspaceSize", 1),
    SYM(DN, convBwdFilter, "cudnnConvolutionBackwardFilter", 1),
    SYM(DN, addTensor, "cudnnAddTensor", 1),
    SYM(DN, createPooling, "cudnnCreatePoolingDescriptor", 1),
    SYM(DN, setPooling2d, "cudnnSetPooling2dDescriptor", 1),
    SYM(DN, destroyPooling, "cudnnDestroyPoolingDescriptor", 1),
    SYM(DN, poolFwd, "cudnnPoolingForward", 1),
    SYM(DN, poolBwd, "cudnnPoolingBackward", 1),
    SYM(DN, deriveBn, "cudnnDeriveBNTensorDescriptor", 1),
    SYM(DN, bnTrain, "cudnnBatchNormalizationForwardTraining", 1),
    SYM(DN, bnInfer, "cudnnBatchNormalizationForwardInference", 1),
    SYM(DN, bnBwd, "cudnnBatchNormalizationBackward", 1),
};

static const symbol DRIVER_SYMBOLS[] = {
    SYM(CU, ctxGetCurrent, "cuCtxGetCurrent", 1),
    SYM(CU, ctxSetCurrent, "cuCtxSetCurrent", 1),
    SYM(CU, memAllocAsync, "cuMemAllocAsync", 1),
    SYM(CU, memFreeAsync, "cuMemFreeAsync", 1),
    SYM(CU, getErrorName, "cuGetErrorName", 1),
    SYM(CU, getErrorString, "cuGetErrorString", 1),
    SYM(CU, driverGetVersion, "cuDriverGetVersion", 1),
};


/* ---- process-wide binding ---- */
void *g_cublas, *g_cublasLt, *g_nvrtc, *g_cudnn, *g_driver;
int g_bound;
int g_live_contexts;
jclass g_library_exception, g_illegal_state, g_illegal_argument;

/* ---- library search ---- */

/* One place to look: a folder, or NULL for the dynamic loader's own path (LD_LIBRARY_PATH, ldconfig cache). */
typedef struct {
    const char **folders; /* NULL entry = the loader path */
    int count;
} search_path;

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *path_of_handle(void *handle) {
    struct link_map *map = NULL;
    if (handle != NULL && dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != NULL && map->l_name != NULL &&
        map->l_name[0] != '\0') {
        return strdup(map->l_name);
    }
    return NULL;
}

static void note_problem(sbuf *problems, const char *path, const char *why);

/*
 * Opens the first of `sonames` found along `where`, place by place (so an explicit folder holding only .so.12
 * wins over a .so.13 on the loader path). `preload`, parallel to `sonames`, names a dependency that is opened first
 * from the same folder (libcublasLt for libcublas): the loader then reuses it by soname instead of searching for
 * it, which matters for folders outside the loader path whose libraries carry no RUNPATH. Files that exist but
 * fail to load are reported with dlerror's reason in `problems`.
 */
static void *open_first(const search_path *where, const char *const *sonames, const char *const *preload, int n,
                        sbuf *problems, void **preloaded, const char **soname_out) {
    char path[4096];
    for (int p = 0; p < where->count; p++) {
        const char *folder = where->folders[p];
        for (int s = 0; s < n; s++) {
            void *dep = NULL;
            if (folder == NULL) {
                void *h = dlopen(sonames[s], RTLD_NOW | RTLD_LOCAL);
                if (h != NULL) {
                    *soname_out = sonames[s];
                    return h;
                }
                const char *why = dlerror();
                /* "<soname>: cannot open shared object file" only says it is not there. Anything else is worth
                 * reporting, such as a dependency (libcublasLt) that is missing: the message then names that one. */
                size_t len = strlen(sonames[s]);
                if (why != NULL && !(strncmp(why, sonames[s], len) == 0 &&
                                     strncmp(why + len, ": cannot open shared object file", 32) == 0)) {
                    sb_printf(problems, "\n  %s (loader path): %s", sonames[s], why);
                }
                continue;
            }
            snprintf(path, sizeof path, "%s/%s", folder, sonames[s]);
            if (!file_exists(path)) {
                continue;
            }
            if (preload != NULL && preload[s] != NULL) {
                char dep_path[4096];
                snprintf(dep_path, sizeof dep_path, "%s/%s", folder, preload[s]);
                if (file_exists(dep_path)) {
                    dep = dlopen(dep_path, RTLD_NOW | RTLD_GLOBAL);
                    if (dep == NULL) {
                        note_problem(problems, dep_path, dlerror());
                    }
                }
            }
            void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (h != NULL) {
                *preloaded = dep;
                *soname_out = sonames[s];
                return h;
            }
            note_problem(problems, path, dlerror());
            if (dep != NULL) {
                dlclose(dep);
            }
        }
    }
    return NULL;
}

/* dlerror's text usually starts with the file's path already; say it once. */
static void note_problem(sbuf *problems, const char *path, const char *why) {
    if (why == NULL) {
        why = "dlopen failed";
    }
    if (strncmp(why, path, strlen(path)) == 0) {
        sb_printf(problems, "\n  %s", why);
    } else {
        sb_printf(problems, "\n  %s: %s", path, why);
    }
}

static void describe_search(sbuf *out, const search_path *where) {
    for (int p = 0; p < where->count; p++) {
        sb_printf(out, "%s%s", p == 0 ? "" : ", ",
                  where->folders[p] ? where->folders[p] : "the loader path (LD_LIBRARY_PATH, ldconfig)");
    }
}

/* Resolves every symbol of `table` from `lib`; lists the missing required ones in `missing`. */
static int resolve(void *lib, const symbol *table, size_t n, sbuf *missing) {
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        void *fn = dlsym(lib, table[i].name);
        /* memcpy, not a cast through void**, so no object-to-function-pointer aliasing is assumed. */
        memcpy(table[i].slot, &fn, sizeof fn);
        if (fn == NULL && table[i].required) {
            sb_printf(missing, "%s%s", ok ? "" : ", ", table[i].name);
            ok = 0;
        }
    }
    return ok;
}

static void clear_symbols(const symbol *table, size_t n) {
    void *none = NULL;
    for (size_t i = 0; i < n; i++) {
        memcpy(table[i].slot, &none, sizeof none);
    }
}

static void unbind_all(void) {
    clear_symbols(CUBLAS_SYMBOLS, COUNT(CUBLAS_SYMBOLS));
    clear_symbols(CUDNN_SYMBOLS, COUNT(CUDNN_SYMBOLS));
    clear_symbols(DRIVER_SYMBOLS, COUNT(DRIVER_SYMBOLS));
    void **handles[] = { &g_cudnn, &g_nvrtc, &g_cublas, &g_cublasLt, &g_driver };
    for (size_t i = 0; i < COUNT(handles); i++) {
        if (*handles[i] != NULL) {
            dlclose(*handles[i]);
            *handles[i] = NULL;
        }
    }
    g_bound = 0;
}

/* Copies a Java String[] into C strings; NULL entries stay NULL. Returns a malloc'd array the caller frees. */
static char **strings_of(JNIEnv *env, jobjectArray array, int *count) {
    *count = array ? (*env)->GetArrayLength(env, array) : 0;
    char **out = calloc((size_t)*count + 1, sizeof(char *));
    for (int i = 0; out != NULL && i < *count; i++) {
        jstring s = (jstring)(*env)->GetObjectArrayElement(env, array, i);
        if (s != NULL) {
            const char *utf = (*env)->GetStringUTFChars(env, s, NULL);
            if (utf != NULL) {
                out[i] = strdup(utf);
                (*env)->ReleaseStringUTFChars(env, s, utf);
            }
            (*env)->DeleteLocalRef(env, s);
        }
    }
    return out;
}

static void free_strings(char **s, int count) {
    for (int i = 0; s != NULL && i < count; i++) {
        free(s[i]);
    }
    free(s);
}

static void put_pair(JNIEnv *env, jobjectArray out, int *at, const char *key, const char *value) {
    jstring k = (*env)->NewStringUTF(env, key);
    jstring v = (*env)->NewStringUTF(env, value ? value : "");
    (*env)->SetObjectArrayElement(env, out, (*at)++, k);
    (*env)->SetObjectArrayElement(env, out, (*at)++, v);
    (*env)->DeleteLocalRef(env, k);
    (*env)->DeleteLocalRef(env, v);
}

/*
 * Binds libcublas (13, then 12), libcudnn.so.9 and the driver's libcuda.so.1, then reports what came from where
 * as key/value pairs. cuBLAS and cuDNN are searched in: the explicit folders, the loader path, then the candidate
 * folders (toolkit lib64, pip wheels) that Java computed. libcuda is the driver's: the loader path first (JCuda
 * has normally loaded it already), then the explicit folders.
 */
JNIEXPORT jobjectArray JNICALL Java_dev_retort_backend_cuda_NativeBridge_nInit(JNIEnv *env, jclass cls,
                                                                              jobjectArray explicitFolders,
                                                                              jobjectArray candidateFolders) {
    UNUSED(cls);
    if (g_bound) {
        throw_new(env, g_illegal_state, "the bridge is already bound; NativeBridge.init returns the first binding");
        return NULL;
    }
    static const char *const blas_names[] = { "libcublas.so.13", "libcublas.so.12" };
    static const char *const lt_names[] = { "libcublasLt.so.13", "libcublasLt.so.12" };
    static const char *const nvrtc_names[] = { "libnvrtc.so.13", "libnvrtc.so.12" };
    static const char *const dnn_names[] = { "libcudnn.so.9" };
    static const char *const driver_names[] = { "libcuda.so.1" };
    int n_explicit = 0, n_candidates = 0, nf = 0, nd = 0, st;
    char **explicit_ = strings_of(env, explicitFolders, &n_explicit);
    char **candidates = strings_of(env, candidateFolders, &n_candidates);
    const char **folders = calloc((size_t)(n_explicit + n_candidates + 1), sizeof(char *));
    const char **driver_folders = calloc((size_t)n_explicit + 1, sizeof(char *));
    const char *blas_soname = NULL, *dnn_soname = NULL, *driver_soname = NULL;
    char *blas_path = NULL, *lt_path = NULL, *nvrtc_path = NULL, *dnn_path = NULL, *driver_path = NULL;
    char blas_version[64] = "", dnn_version[64] = "", cudart_version[64] = "", driver_version[64] = "";
    void *no_preload = NULL;
    jobjectArray result = NULL;
    sbuf problems = { 0 }, searched = { 0 }, missing = { 0 };
    if (explicit_ == NULL || candidates == NULL || folders == NULL || driver_folders == NULL) {
        throw_new(env, g_illegal_state, "NativeBridge.init: out of host memory");
        goto fail;
    }
    for (int i = 0; i < n_explicit; i++) {
        if (explicit_[i] != NULL) {
            folders[nf++] = explicit_[i];
        }
    }
    folders[nf++] = NULL; /* the loader path */
    for (int i = 0; i < n_candidates; i++) {
        if (candidates[i] != NULL) {
            folders[nf++] = candidates[i];
        }
    }
    search_path libs = { folders, nf };
    describe_search(&searched, &libs);

    /* cuBLAS */
    g_cublas = open_first(&libs, blas_names, lt_names, 2, &problems, &g_cublasLt, &blas_soname);
    if (g_cublas == NULL) {
        throw_new(env, g_library_exception,
                  "cuBLAS not found: no libcublas.so.13 or libcublas.so.12 in %s.%s%s\nInstall cuBLAS: the CUDA"
                  " toolkit (NVIDIA's apt repository: libcublas-13-0 or libcublas-12-9), or pip install nvidia-cublas"
                  " (CUDA 13) or nvidia-cublas-cu12 (CUDA 12); or set RETORT_CUDA_LIBS to the folder that holds it.",
                  sb_str(&searched), problems.len ? "\nFound but not loadable:" : "", sb_str(&problems));
        goto fail;
    }
    blas_path = path_of_handle(g_cublas);
    if (!resolve(g_cublas, CUBLAS_SYMBOLS, COUNT(CUBLAS_SYMBOLS), &missing)) {
        throw_new(env, g_library_exception,
                  "%s at %s lacks %s: Retort needs cuBLAS 12 or 13; install a complete cuBLAS (pip install"
                  " nvidia-cublas or nvidia-cublas-cu12) or set RETORT_CUDA_LIBS to a folder that holds one.",
                  blas_soname, blas_path ? blas_path : "?", sb_str(&missing));
        goto fail;
    }

    /* cuDNN 9 opens its engine libraries by name when it first runs a convolution, and they need libcublasLt and
     * libnvrtc of the same CUDA major with no search path of their own: the loader finds them only if they are
     * loaded already (PyTorch loads both up front). libcublasLt came with cuBLAS; libnvrtc is loaded here from the
     * same places. Without it cuDNN still binds, and the first convolution fails with a message that names it. */
    sb_free(&problems);
    const char *nvrtc_soname = NULL;
    const char *const *nvrtc_choice = blas_soname == blas_names[0] ? &nvrtc_names[0] : &nvrtc_names[1];
    g_nvrtc = open_first(&libs, nvrtc_choice, NULL, 1, &problems, &no_preload, &nvrtc_soname);
    nvrtc_path = path_of_handle(g_nvrtc);

    /* cuDNN */
    sb_free(&problems);
    g_cudnn = open_first(&libs, dnn_names, NULL, 1, &problems, &no_preload, &dnn_soname);
    if (g_cudnn == NULL) {
        throw_new(env, g_library_exception,
                  "cuDNN 9 not found: no libcudnn.so.9 in %s.%s%s\ncuDNN never ships with the CUDA toolkit: pip"
                  " install nvidia-cudnn-cu13 (or nvidia-cudnn-cu12), or NVIDIA's apt package libcudnn9-cuda-13 (or"
                  " libcudnn9-cuda-12); or set RETORT_CUDA_LIBS to the folder that holds it.",
                  sb_str(&searched), problems.len ? "\nFound but not loadable:" : "", sb_str(&problems));
        goto fail;
    }
    dnn_path = path_of_handle(g_cudnn);
    if (!resolve(g_cudnn, CUDNN_SYMBOLS, COUNT(CUDNN_SYMBOLS), &missing)) {
        throw_new(env, g_library_exception,
                  "libcudnn.so.9 at %s lacks %s: install a complete cuDNN 9 (pip install nvidia-cudnn-cu13 or"
                  " nvidia-cudnn-cu12) or set RETORT_CUDA_LIBS to a folder that holds one.",
                  dnn_path ? dnn_path : "?", sb_str(&missing));
        goto fail;
    }

    /* The driver, for the workspace (cuMemAllocAsync) and the current-context check: the loader path first,
     * where JCuda has normally loaded it already, then the explicit folders. */
    driver_folders[nd++] = NULL;
    for (int i = 0; i < n_explicit; i++) {
        if (explicit_[i] != NULL) {
            driver_folders[nd++] = explicit_[i];
        }
    }
    search_path drivers = { driver_folders, nd };
    sb_free(&problems);
    g_driver = open_first(&drivers, driver_names, NULL, 1, &problems, &no_preload, &driver_soname);
    if (g_driver == NULL) {
        throw_new(env, g_library_exception,
                  "the NVIDIA driver library libcuda.so.1 is not on the loader path%s%s: install the NVIDIA driver"
                  " for this GPU (Debian: nvidia-driver; NVIDIA's repository: cuda-drivers).",
                  problems.len ? "; found but not loadable:" : "", sb_str(&problems));
        goto fail;
    }
    driver_path = path_of_handle(g_driver);
    if (!resolve(g_driver, DRIVER_SYMBOLS, COUNT(DRIVER_SYMBOLS), &missing)) {
        throw_new(env, g_library_exception,
                  "libcuda.so.1 at %s lacks %s: the NVIDIA driver is older than CUDA 11.2; install a current driver.",
                  driver_path ? driver_path : "?", sb_str(&missing));
        goto fail;
    }

    /* Versions. cublasGetProperty needs no handle and no GPU. */
    int major = 0, minor = 0, patch = 0;
    if ((st = CB.getProperty(MAJOR_VERSION, &major)) != 0 || (st = CB.getProperty(MINOR_VERSION, &minor)) != 0 ||
        (st = CB.getProperty(PATCH_LEVEL, &patch)) != 0) {
        fail_cublas(env, "cublasGetProperty", st, NULL);
        goto fail;
    }
    snprintf(blas_version, sizeof blas_version, "%d.%d.%d", major, minor, patch);
    /* cuDNN 9 encodes its version as MAJOR*10000 + MINOR*100 + PATCH (cudnn_version.h). */
    size_t v = DN.getVersion();
    snprintf(dnn_version, sizeof dnn_version, "%zu.%zu.%zu", v / 10000, (v % 10000) / 100, v % 100);
    if (v / 10000 != 9) {
        throw_new(env, g_library_exception, "%s reports cuDNN version %zu, not 9.x: install cuDNN 9",
                  dnn_path ? dnn_path : "libcudnn.so.9", v);
        goto fail;
    }
    if (DN.getCudartVersion) {
        size_t rt = DN.getCudartVersion(); /* CUDA's encoding: 1000*major + 10*minor */
        snprintf(cudart_version, sizeof cudart_version, "%zu.%zu", rt / 1000, (rt % 1000) / 10);
    }
    int dv = 0;
    if (CU.driverGetVersion(&dv) == CUDA_SUCCESS) {
        snprintf(driver_version, sizeof driver_version, "%d.%d", dv / 1000, (dv % 1000) / 10);
    }
    /* Loading cuDNN's sub-libraries now turns a half-installed cuDNN into an error here, not mid-training. */
    if (DN.opsVersionCheck && (st = DN.opsVersionCheck()) != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnOpsVersionCheck", st, NULL);
        goto fail;
    }
    if (DN.cnnVersionCheck && (st = DN.cnnVersionCheck()) != CUDNN_STATUS_SUCCESS) {
        fail_cudnn(env, "cudnnCnnVersionCheck", st, NULL);
        goto fail;
    }

    /* libcublasLt: the copy we preloaded, or the one the loader found as libcublas's dependency. */
    lt_path = path_of_handle(g_cublasLt);
    if (lt_path == NULL) {
        void *lt = dlopen(blas_soname == blas_names[0] ? lt_names[0] : lt_names[1], RTLD_NOW | RTLD_NOLOAD);
        if (lt != NULL) {
            lt_path = path_of_handle(lt);
            dlclose(lt);
        }
    }

    jclass string_class = (*env)->FindClass(env, "java/lang/String");
    result = string_class ? (*env)->NewObjectArray(env, 18, string_class, NULL) : NULL;
    if (result == NULL) {
        goto fail; /* OutOfMemoryError is pending */
    }
    int at = 0;
    put_pair(env, result, &at, "cublas.path", blas_path ? blas_path : blas_soname);
    put_pair(env, result, &at, "cublas.version", blas_version);
    put_pair(env, result, &at, "cublasLt.path", lt_path);
    put_pair(env, result, &at, "nvrtc.path", nvrtc_path);
    put_pair(env, result, &at, "cudnn.path", dnn_path ? dnn_path : dnn_soname);
    put_pair(env, result, &at, "cudnn.version", dnn_version);
    put_pair(env, result, &at, "cudnn.cudart", cudart_version);
    put_pair(env, result, &at, "driver.path", driver_path ? driver_path : driver_soname);
    put_pair(env, result, &at, "driver.version", driver_version);
    g_bound = 1;
    goto done;

fail:
    unbind_all();
done:
    sb_free(&problems);
    sb_free(&searched);
    sb_free(&missing);
    free(folders);
    free(driver_folders);
    free(blas_path);
    free(lt_path);
    free(nvrtc_path);
    free(dnn_path);
    free(driver_path);
    free_strings(explicit_, n_explicit);
    free_strings(candidates, n_candidates);
    return result;
}

/* Test support: forgets the binding so that another set of (fake) libraries can be bound in the same JVM. */
JNIEXPORT void JNICALL Java_dev_retort_backend_cuda_NativeBridge_nReset(JNIEnv *env, jclass cls) {
    UNUSED(cls);
    int live = __atomic_load_n(&g_live_contexts, __ATOMIC_SEQ_CST);
    if (live > 0) {
        throw_new(env, g_illegal_state, "NativeBridge reset with %d context(s) still open", live);
        return;
    }
    unbind_all();
}

/* Test support: the address of a direct buffer, so CPU tests can drive the bridge on host memory. */
JNIEXPORT jlong JNICALL Java_dev_retort_backend_cuda_NativeBridge_nAddressOf(JNIEnv *env, jclass cls, jobject buffer) {
    UNUSED(cls);
    void *address = (*env)->GetDirectBufferAddress(env, buffer);
    if (address == NULL) {
        throw_new(env, g_illegal_argument, "addressOf: not a direct buffer");
        return 0;
    }
    return (jlong)(uintptr_t)address;
}


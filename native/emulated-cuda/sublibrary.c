/*
 * A stand-in for a library the emulated cuBLAS and cuDNN depend on but never call into (libcublasLt, libnvrtc,
 * cuDNN's engine library): it exists so that the dynamic loader must find it, as it must find NVIDIA's.
 */
#define CONCAT(a, b) a##b
#define EXPAND(a, b) CONCAT(a, b)

__attribute__((visibility("default"))) int EXPAND(NAME, EmulatedVersion)(void) { return 13000; }

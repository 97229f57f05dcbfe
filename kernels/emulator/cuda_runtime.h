// The part of the CUDA runtime API that kernels/lab/kd_loss_lab.cu uses, on the CPU, so that the lab compiles
// with g++ and runs on the emulator (cuda_emulator.h) where there is no GPU:
//
//   g++ -std=c++17 -O2 -ffp-contract=off -I kernels/emulator -x c++ kernels/lab/kd_loss_lab.cu -o kd_loss_lab
//
// (-I kernels/emulator makes the lab's #include <cuda_runtime.h> find this file instead of the toolkit's.)
// "Device" memory is host memory, copies are memcpy, launches run to completion before they return (so an event
// records the host clock), and the device reports itself as the emulator with compute capability 0.0. The lab's
// validation is as meaningful here as on a GPU (the same kernel sources, checked against the same reference); its
// timings are the emulator's and say nothing about a GPU.
#pragma once

#include "cuda_emulator.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <map>

enum cudaError_t { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorMemoryAllocation = 2, cudaErrorLaunchFailure = 719 };
enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4
};
enum cudaDeviceAttr { cudaDevAttrClockRate = 13 };

struct cudaDeviceProp {
    char name[256];
    int major, minor;
    int multiProcessorCount;
    int l2CacheSize;
};

struct CUevent_emulated {
    std::chrono::steady_clock::time_point at;
    bool recorded;
};
typedef CUevent_emulated* cudaEvent_t;
typedef void* cudaStream_t;

namespace emu {
// The error of the last launch that failed (a block shape the emulator refuses, or a kernel that threw), returned
// and cleared by cudaGetLastError as the runtime does.
inline cudaError_t last_error = cudaSuccess;
inline std::string last_message;
}  // namespace emu

inline const char* cudaGetErrorString(cudaError_t e) {
    switch (e) {
        case cudaSuccess: return "no error";
        case cudaErrorInvalidValue: return "invalid argument";
        case cudaErrorMemoryAllocation: return "out of memory";
        default: return emu::last_message.empty() ? "unspecified launch failure" : emu::last_message.c_str();
    }
}

inline cudaError_t cudaGetLastError() {
    const cudaError_t e = emu::last_error;
    emu::last_error = cudaSuccess;
    return e;
}

// 256-byte aligned, as cudaMalloc's pointers are (the kernels' float4 paths rely on 16), and no byte longer than
// asked, so that AddressSanitizer (-fsanitize=address) catches a kernel that reads or writes past the end.
inline cudaError_t cudaMalloc(void** p, size_t bytes) {
    if (p == nullptr) return cudaErrorInvalidValue;
    if (posix_memalign(p, 256, bytes == 0 ? 1 : bytes) != 0) {
        *p = nullptr;
        return cudaErrorMemoryAllocation;
    }
    return cudaSuccess;
}
template <typename T>
inline cudaError_t cudaMalloc(T** p, size_t bytes) {
    return cudaMalloc(reinterpret_cast<void**>(p), bytes);
}
inline cudaError_t cudaFree(void* p) {
    std::free(p);
    return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
    std::memcpy(dst, src, bytes);
    return cudaSuccess;
}
inline cudaError_t cudaMemset(void* p, int value, size_t bytes) {
    std::memset(p, value, bytes);
    return cudaSuccess;
}

inline cudaError_t cudaGetDevice(int* device) {
    *device = 0;
    return cudaSuccess;
}
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int) {
    std::memset(prop, 0, sizeof *prop);
    std::snprintf(prop->name, sizeof prop->name, "Retort CPU emulator, not a GPU");
    prop->multiProcessorCount = 1;
    return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr, int) {
    *value = 0;
    return cudaSuccess;
}

inline cudaError_t cudaEventCreate(cudaEvent_t* e) {
    *e = new CUevent_emulated{{}, false};
    return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t = nullptr) {
    e->at = std::chrono::steady_clock::now();
    e->recorded = true;
    return cudaSuccess;
}
inline cudaError_t cudaEventSynchronize(cudaEvent_t e) {
    return e->recorded ? cudaSuccess : cudaErrorInvalidValue;
}
inline cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t stop) {
    if (!start->recorded || !stop->recorded) return cudaErrorInvalidValue;
    *ms = std::chrono::duration<float, std::milli>(stop->at - start->at).count();
    return cudaSuccess;
}

namespace emu {

// kernel<<<grid, block>>>(args...) is not C++: the lab writes LAUNCH(kernel, grid, block)(args...), which nvcc
// turns back into the chevrons and the emulator into launch(grid, block, kernel)(args...). Each kernel keeps its
// own run_grid barrier_free flag, so kernels without barriers run their threads as plain calls after one block.
template <typename Kernel>
struct Launch {
    unsigned grid, block;
    Kernel* kernel;

    template <typename... Args>
    void operator()(Args... args) const {
        static std::map<Kernel*, bool> barrier_free;
        try {
            run_grid(grid, block, 1, [&] { kernel(args...); }, &barrier_free[kernel]);
        } catch (const std::exception& e) {
            last_error = cudaErrorLaunchFailure;
            last_message = e.what();
        }
    }
};

template <typename Kernel>
Launch<Kernel> launch(unsigned grid, unsigned block, Kernel* kernel) {
    return Launch<Kernel>{grid, block, kernel};
}

}  // namespace emu

// Runs the real kernels/*.cu on the CPU for tests on machines without a GPU: a small server on stdin/stdout
// that allocates "device" memory (host memory whose addresses Java uses as device pointers), copies bytes
// in and out, and launches kernels by name with the parameter bytes the Java launcher built — checking
// each parameter's C type against the kernel's signature. Driven by the test class EmulatedGpu.
//
// Build: g++ -std=c++17 -O1 -ffp-contract=off [-fsanitize=address] -I kernels \
//          kernels/emulator/kernel_runner.cpp -o kernel_runner
// (-ffp-contract=off: no fused multiply-add unless a kernel asks for fmaf, as nvcc's _rn intrinsics.)
//
// Protocol, little-endian, one command per request, answered in order:
//   'A' size:i64                       -> address:i64                 (16-byte aligned, zero-filled)
//   'W' address:i64 n:i64 bytes[n]     -> status:i32
//   'R' address:i64 n:i64              -> bytes[n]
//   'F' address:i64                    -> status:i32
//   'L' name:str grid:i32 bx:i32 by:i32 nargs:i32 {kind:i32 n:i32 bytes[n]}*  -> status:i32 [message:str]
//   'Q'                                -> exits
// str = length:i32 + bytes; status 0 is success, else a message follows.
#include "cuda_emulator.h"

#include "../bias.cu"
#include "../cross_entropy.cu"
#include "../dropout.cu"
#include "../elementwise.cu"
#include "../kd_loss.cu"
#include "../metrics.cu"
#include "../mse.cu"
#include "../optim.cu"
#include "../reduce.cu"
#include "../softmax.cu"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace {

// KernelArgs.Kind ordinals.
enum Kind { POINTER = 0, INT = 1, LONG_LONG = 2, FLOAT = 3, DOUBLE = 4, STRUCT = 5 };

struct Arg {
    int kind;
    std::vector<unsigned char> bytes;
};

std::map<uintptr_t, size_t> allocations;

bool inside_allocation(uintptr_t p) {
    auto it = allocations.upper_bound(p);
    if (it == allocations.begin()) return false;
    --it;
    return p >= it->first && p <= it->first + it->second; // one past the end is a valid (empty) view
}

template <typename T>
const char* expected_kind(int kind) {
    if (std::is_pointer<T>::value) return kind == POINTER ? nullptr : "a device pointer";
    if (std::is_same<T, int>::value || std::is_same<T, unsigned int>::value) return kind == INT ? nullptr : "an int";
    if (std::is_same<T, long long>::value || std::is_same<T, unsigned long long>::value)
        return kind == LONG_LONG ? nullptr : "a long long";
    if (std::is_same<T, float>::value) return kind == FLOAT ? nullptr : "a float";
    if (std::is_same<T, double>::value) return kind == DOUBLE ? nullptr : "a double";
    return kind == STRUCT ? nullptr : "a struct";
}

template <typename T>
T unpack(const std::vector<Arg>& args, size_t i, std::string& error) {
    T value{};
    if (!error.empty()) return value;
    const Arg& a = args[i];
    if (const char* want = expected_kind<T>(a.kind)) {
        error = "parameter " + std::to_string(i) + " must be " + want + " (kind " + std::to_string(a.kind) + " given)";
        return value;
    }
    if (a.bytes.size() != sizeof(T)) {
        error = "parameter " + std::to_string(i) + " has " + std::to_string(a.bytes.size()) + " bytes, the kernel takes "
              + std::to_string(sizeof(T));
        return value;
    }
    std::memcpy(&value, a.bytes.data(), sizeof(T));
    if constexpr (std::is_pointer<T>::value) {
        const uintptr_t p = reinterpret_cast<uintptr_t>(value);
        if (p != 0 && !inside_allocation(p)) {
            error = "parameter " + std::to_string(i) + " points outside every allocation";
        }
    }
    return value;
}

template <typename... P, size_t... I>
std::string launch(void (*kernel)(P...), const std::vector<Arg>& args, unsigned grid, unsigned bx, unsigned by,
                   std::index_sequence<I...>) {
    if (args.size() != sizeof...(P)) {
        return "the kernel takes " + std::to_string(sizeof...(P)) + " parameters, " + std::to_string(args.size())
             + " given";
    }
    std::string error;
    std::tuple<std::decay_t<P>...> values{unpack<std::decay_t<P>>(args, I, error)...};
    if (!error.empty()) return error;
    try {
        emu::run_grid(grid, bx, by, [&] { std::apply(kernel, values); });
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

template <typename... P>
std::string launch(void (*kernel)(P...), const std::vector<Arg>& args, unsigned grid, unsigned bx, unsigned by) {
    return launch(kernel, args, grid, bx, by, std::index_sequence_for<P...>{});
}

using Launcher = std::string (*)(const std::vector<Arg>&, unsigned, unsigned, unsigned);

#define KERNEL(name) \
    {#name, [](const std::vector<Arg>& a, unsigned g, unsigned x, unsigned y) { return launch(name, a, g, x, y); }}

const std::map<std::string, Launcher> kernels = {
    KERNEL(unary_f32), KERNEL(binary_f32), KERNEL(binary_scalar_f32), KERNEL(binary_broadcast_f32),
    KERNEL(broadcast_to_f32), KERNEL(affine_f32), KERNEL(accumulate_f32), KERNEL(fill_f32), KERNEL(fill_i32),
    KERNEL(convert_f32_i32), KERNEL(convert_i32_f32),
    KERNEL(dropout_mask_f32),
    KERNEL(softmax_forward_f32), KERNEL(softmax_backward_f32),
    KERNEL(nll_forward_f32), KERNEL(nll_backward_f32),
    KERNEL(kd_loss_warp_f32), KERNEL(kd_loss_block_f32), KERNEL(kd_loss_stream_f32), KERNEL(kd_loss_finish_f32),
    KERNEL(bias_add_f32), KERNEL(bias_grad_rows_f32), KERNEL(bias_grad_planes_f32),
    KERNEL(sum_to_f32), KERNEL(sum_partials_f32), KERNEL(count_nonfinite_partials_f32), KERNEL(reduce_finish_f32),
    KERNEL(reduce_finish_i64),
    KERNEL(mse_partials_f32), KERNEL(mse_backward_f32),
    KERNEL(sgd_step_f32), KERNEL(adamw_step_f32),
    KERNEL(argmax_last_dim_f32), KERNEL(count_equal_partials_i32), KERNEL(ece_rows_f32), KERNEL(ece_bins_f64),
};

void read_exact(void* p, size_t n) {
    if (n > 0 && std::fread(p, 1, n, stdin) != n) std::exit(0); // the test JVM went away
}
template <typename T>
T read_value() {
    T v;
    read_exact(&v, sizeof(T));
    return v;
}
std::string read_string() {
    std::string s(read_value<int32_t>(), '\0');
    read_exact(&s[0], s.size());
    return s;
}
void write_exact(const void* p, size_t n) {
    std::fwrite(p, 1, n, stdout);
}
template <typename T>
void write_value(T v) {
    write_exact(&v, sizeof(T));
}
void write_status(const std::string& error) {
    write_value<int32_t>(error.empty() ? 0 : 1);
    if (!error.empty()) {
        write_value<int32_t>((int32_t)error.size());
        write_exact(error.data(), error.size());
    }
}

}  // namespace

int main() {
    for (;;) {
        const char command = read_value<char>();
        if (command == 'Q') return 0;
        if (command == 'A') {
            const int64_t size = read_value<int64_t>();
            // The exact size (malloc aligns to 16 bytes, enough for float4), so that AddressSanitizer's red
            // zone starts right after the last element and any overrun is caught.
            void* p = std::malloc(size > 0 ? (size_t)size : 1);
            std::memset(p, 0, size > 0 ? (size_t)size : 1);
            allocations[reinterpret_cast<uintptr_t>(p)] = (size_t)size;
            write_value<int64_t>((int64_t) reinterpret_cast<uintptr_t>(p));
        } else if (command == 'W') {
            const int64_t address = read_value<int64_t>();
            const int64_t n = read_value<int64_t>();
            std::vector<unsigned char> bytes(n);
            read_exact(bytes.data(), n);
            if (!inside_allocation(address) || !inside_allocation(address + n)) {
                write_status("write outside every allocation");
            } else {
                std::memcpy(reinterpret_cast<void*>(address), bytes.data(), n);
                write_status("");
            }
        } else if (command == 'R') {
            const int64_t address = read_value<int64_t>();
            const int64_t n = read_value<int64_t>();
            std::vector<unsigned char> bytes(n);
            if (inside_allocation(address) && inside_allocation(address + n)) {
                std::memcpy(bytes.data(), reinterpret_cast<void*>(address), n);
            }
            write_exact(bytes.data(), n);
        } else if (command == 'F') {
            const int64_t address = read_value<int64_t>();
            auto it = allocations.find((uintptr_t)address);
            if (it == allocations.end()) {
                write_status("free of an unknown address");
            } else {
                std::free(reinterpret_cast<void*>(address));
                allocations.erase(it);
                write_status("");
            }
        } else if (command == 'L') {
            const std::string name = read_string();
            const unsigned grid = (unsigned)read_value<int32_t>();
            const unsigned bx = (unsigned)read_value<int32_t>();
            const unsigned by = (unsigned)read_value<int32_t>();
            const int nargs = read_value<int32_t>();
            std::vector<Arg> args(nargs);
            for (Arg& a : args) {
                a.kind = read_value<int32_t>();
                a.bytes.resize(read_value<int32_t>());
                read_exact(a.bytes.data(), a.bytes.size());
            }
            auto it = kernels.find(name);
            write_status(it == kernels.end() ? "no kernel named " + name : it->second(args, grid, bx, by));
        } else {
            write_status(std::string("unknown command ") + command);
        }
        std::fflush(stdout);
    }
}

/* emu.h - runs the CUDA backend's sources on the host, for machines without
 * a GPU.  Force-included (g++ -include) before the cuda/ sources, which are then
 * compiled as plain C++ against the real CUDA, cuDNN and cuBLAS headers;
 * emu_runtime.cpp, emu_dnn.cpp and emu_blas.cpp implement the functions the
 * backend calls.
 *
 * What this checks: the kernels' index arithmetic, block reductions (real
 * __syncthreads barriers between the threads of a block), bf16 storage, the
 * scalar slots, algorithm choice, waiting for the stream before reading its
 * results (work runs only when the host waits), and every pointer and size
 * handed to the runtime, cuDNN and cuBLAS (checked against the
 * allocations).  What it cannot: cuDNN's and cuBLAS's own behaviour, timing,
 * and races between blocks (they run one after another).  The real test is test_cuda on a GPU.
 */
#ifndef NS_CUDA_EMU_H
#define NS_CUDA_EMU_H

/* the headers keep these when already defined */
#define __global__
#define __device__
#define __host__
#define __shared__  static /* blocks run one at a time */
#define __STORAGE__ extern /* threadIdx and friends: set by the emulator */

#include <cuda_runtime.h>
#include <device_launch_parameters.h>

#include <functional>
#include <memory>
#include <tuple>
#include <utility>

extern "C" void __syncthreads(void);

namespace nsc_emu {

/* Queues a launch: body runs as every thread of every block of the grid,
 * one block at a time, the threads of a block taking turns at each
 * __syncthreads, when the stream is next synchronised. */
void run_grid(const void *kernel, dim3 grid, dim3 block, std::function<void()> body);

template <typename... P> struct launch {
    void (*kernel)(P...);
    dim3 grid;
    unsigned threads;

    template <typename... A> void operator()(A &&...a) const {
        /* the arguments are copied now, as a launch copies them */
        auto args = std::make_shared<std::tuple<P...>>(std::forward<A>(a)...);
        void (*k)(P...) = kernel;
        run_grid((const void *) kernel, grid, dim3(threads), [k, args] { std::apply(k, *args); });
    }
};

template <typename... P> launch<P...> make_launch(void (*kernel)(P...), dim3 grid, unsigned threads) {
    return launch<P...>{kernel, grid, threads};
}

} // namespace nsc_emu

#define NSC_LAUNCH(kernel, grid, stream) nsc_emu::make_launch(kernel, (grid), NSC_THREADS)

#endif /* NS_CUDA_EMU_H */

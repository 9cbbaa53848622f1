/* emu_runtime.cpp - the CUDA runtime calls of the backend, on the host:
 * one stream of queued work, and device memory that is host memory
 * remembered in a table every copy and library call is checked against.
 *
 * Work is queued and runs when the host waits (cudaStreamSynchronize,
 * cudaFree, a copy to pageable memory, cudaFind...), so a result read too
 * early is stale here as it would be on a GPU.
 *
 * The threads of a block are fibers on their own small stacks, switched by
 * a few lines of x86-64 assembly (swapcontext makes a system call per
 * switch, far too slow for reductions of a million elements): each runs
 * until it reaches __syncthreads or ends, then the next; a barrier opens
 * when every thread of the block has reached it.
 */
#include "emu.h"
#include "emu_internal.h"

#include <map>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <vector>

#if !defined(__x86_64__)
#error "the CUDA emulator switches fibers with x86-64 assembly"
#endif

extern "C" {
uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
int warpSize = 32;
}

void emu_complain(const char *api, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cuda-emu: %s: ", api);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- fibers ---- */

/* Saves the callee-saved registers on the current stack, stores its pointer
 * in *from, continues on stack `to` (prepared the same way). */
extern "C" void emu_switch(void **from, void *to);
asm(".text\n"
    ".globl emu_switch\n"
    ".hidden emu_switch\n"
    ".type emu_switch, @function\n"
    "emu_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size emu_switch, .-emu_switch\n");

namespace {

enum fiber_state { RUNNING, AT_BARRIER, DONE };

const size_t STACK = 32 << 10;
const unsigned MAX_THREADS = 1024;

struct fiber {
    void *sp;
    fiber_state state;
};

struct scheduler {
    fiber fibers[MAX_THREADS];
    char *stacks; /* MAX_THREADS * STACK, mapped on first use */
    void *home;   /* the scheduler's stack while a fiber runs */
    unsigned cur;
    bool direct;                       /* threads called one by one, no fibers */
    bool barrier;                      /* some thread of the block reached __syncthreads */
    const std::function<void()> *body; /* the kernel with its arguments */
} S;

/* Kernels seen so far, and whether they never reach a barrier: those run
 * as plain calls, about ten times faster. */
std::map<const void *, bool> plain;

[[noreturn]] void fiber_entry() {
    (*S.body)();
    S.fibers[S.cur].state = DONE;
    emu_switch(&S.fibers[S.cur].sp, S.home);
    abort(); /* a finished fiber is never resumed */
}

/* A stack that emu_switch "returns" into fiber_entry from, aligned as if
 * fiber_entry had been called. */
void *fresh_stack(unsigned t) {
    void **top = (void **) (S.stacks + (size_t) (t + 1) * STACK);
    void **sp = top - 8;
    for (int i = 0; i < 6; i++)
        sp[i] = NULL; /* r15 r14 r13 r12 rbx rbp */
    sp[6] = (void *) fiber_entry;
    sp[7] = NULL;
    return sp;
}

void run_block(unsigned threads) {
    if (S.direct) {
        for (unsigned t = 0; t < threads; t++) {
            threadIdx = make_uint3(t, 0, 0);
            (*S.body)();
        }
        return;
    }
    for (unsigned t = 0; t < threads; t++) {
        S.fibers[t].sp = fresh_stack(t);
        S.fibers[t].state = RUNNING;
    }
    for (;;) {
        for (unsigned t = 0; t < threads; t++) {
            if (S.fibers[t].state == DONE) continue;
            threadIdx = make_uint3(t, 0, 0);
            S.cur = t;
            S.fibers[t].state = RUNNING;
            emu_switch(&S.home, S.fibers[t].sp);
        }
        unsigned done = 0;
        for (unsigned t = 0; t < threads; t++)
            done += S.fibers[t].state == DONE;
        if (done == threads) return;
        if (done) {
            /* undefined behaviour on a GPU: usually a hang */
            emu_complain("__syncthreads", "block (%u, %u): %u of %u threads ended while the others wait",
                         blockIdx.x, blockIdx.y, done, threads);
            abort();
        }
    }
}

cudaError_t last_error = cudaSuccess;

void exec_grid(const void *kernel, dim3 grid, dim3 block, const std::function<void()> &body);

} // namespace

extern "C" void __syncthreads(void) {
    if (S.direct) {
        emu_complain("__syncthreads", "a kernel that first ran without barriers reached one");
        abort();
    }
    S.barrier = true;
    S.fibers[S.cur].state = AT_BARRIER;
    emu_switch(&S.fibers[S.cur].sp, S.home);
}

void nsc_emu::run_grid(const void *kernel, dim3 grid, dim3 block, std::function<void()> body) {
    unsigned threads = block.x * block.y * block.z;
    if (block.y != 1 || block.z != 1 || grid.z != 1 || threads == 0 || threads > MAX_THREADS || grid.x == 0 ||
        grid.y == 0 || grid.x > 0x7fffffffu || grid.y > 65535) {
        emu_complain("launch", "grid (%u, %u, %u) of blocks (%u, %u, %u)", grid.x, grid.y, grid.z, block.x,
                     block.y, block.z);
        last_error = cudaErrorInvalidConfiguration;
        return;
    }
    emu_enqueue([kernel, grid, block, body] { exec_grid(kernel, grid, block, body); });
}

namespace {

void exec_grid(const void *kernel, dim3 grid, dim3 block, const std::function<void()> &body) {
    unsigned threads = block.x;
    if (!S.stacks) {
        void *m = mmap(NULL, MAX_THREADS * STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) abort();
        S.stacks = (char *) m;
    }
    gridDim = grid;
    blockDim = block;
    S.body = &body;
    auto known = plain.find(kernel);
    S.direct = known != plain.end() && known->second;
    S.barrier = false;
    for (unsigned y = 0; y < grid.y; y++)
        for (unsigned x = 0; x < grid.x; x++) {
            blockIdx = make_uint3(x, y, 0);
            run_block(threads);
            if (known == plain.end()) { /* first block of a new kernel */
                known = plain.emplace(kernel, !S.barrier).first;
                S.direct = !S.barrier;
            }
        }
    S.direct = false;
}

} // namespace

/* ---- the stream ---- */

namespace {
std::vector<std::function<void()>> queued;
}

void emu_enqueue(std::function<void()> op) {
    queued.push_back(std::move(op));
}

void emu_drain(void) {
    for (size_t i = 0; i < queued.size(); i++)
        queued[i]();
    queued.clear();
}

/* ---- memory ---- */

namespace {

std::map<uintptr_t, size_t> device; /* start -> bytes */
std::map<uintptr_t, size_t> pinned; /* cudaMallocHost: start -> bytes */
size_t in_use;

size_t capacity() {
    const char *mb = getenv("NS_CUDA_EMU_MEMORY_MB");
    return (mb ? strtoull(mb, NULL, 10) : 16384) << 20;
}

/* The allocation holding p, or device.end(). */
std::map<uintptr_t, size_t>::const_iterator holding(const void *p) {
    uintptr_t a = (uintptr_t) p;
    auto it = device.upper_bound(a);
    if (it == device.begin()) return device.end();
    --it;
    return a < it->first + it->second ? it : device.end();
}

bool is_pinned(const void *p) {
    uintptr_t a = (uintptr_t) p;
    auto it = pinned.upper_bound(a);
    return it != pinned.begin() && a < (--it)->first + it->second;
}

} // namespace

bool emu_is_device(const void *p) {
    return holding(p) != device.end();
}

bool emu_device_range(const void *p, size_t bytes, const char *api, const char *what) {
    auto it = holding(p);
    if (it == device.end()) {
        emu_complain(api, "%s %p is not device memory", what, p);
        return false;
    }
    if ((uintptr_t) p + bytes > it->first + it->second) {
        emu_complain(api, "%s: %zu bytes from %p run %zu bytes past the end of an allocation of %zu", what,
                     bytes, p, (size_t) ((uintptr_t) p + bytes - it->first - it->second), it->second);
        return false;
    }
    return true;
}

cudaError_t cudaMalloc(void **p, size_t bytes) {
    *p = NULL;
    if (in_use + bytes > capacity()) return last_error = cudaErrorMemoryAllocation;
    void *m = NULL; /* exactly `bytes`, so that AddressSanitizer sees an overrun */
    if (posix_memalign(&m, 256, bytes ? bytes : 1)) return last_error = cudaErrorMemoryAllocation;
    memset(m, 0xff, bytes); /* NaN, as good as any garbage */
    device[(uintptr_t) m] = bytes;
    in_use += bytes;
    *p = m;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
    if (!p) return cudaSuccess;
    emu_drain(); /* cudaFree waits for the device */
    auto it = device.find((uintptr_t) p);
    if (it == device.end()) {
        emu_complain("cudaFree", "%p is not the start of a device allocation", p);
        return cudaErrorInvalidValue;
    }
    in_use -= it->second;
    device.erase(it);
    free(p);
    return cudaSuccess;
}

cudaError_t cudaHostAlloc(void **p, size_t bytes, unsigned int flags) {
    return cudaMallocHost(p, bytes);
}

cudaError_t cudaMallocHost(void **p, size_t bytes) {
    *p = malloc(bytes ? bytes : 1);
    if (!*p) return cudaErrorMemoryAllocation;
    pinned[(uintptr_t) *p] = bytes ? bytes : 1;
    return cudaSuccess;
}

cudaError_t cudaFreeHost(void *p) {
    emu_drain();
    if (!pinned.erase((uintptr_t) p)) {
        emu_complain("cudaFreeHost", "%p was not allocated with cudaMallocHost", p);
        return cudaErrorInvalidValue;
    }
    free(p);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind,
                            cudaStream_t s) {
    bool dd = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyHostToHost,
         sd = kind == cudaMemcpyHostToDevice;
    bool ok = true;
    if (kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice)
        ok &= emu_device_range(dst, bytes, "cudaMemcpyAsync", "destination");
    if (kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice)
        ok &= emu_device_range(src, bytes, "cudaMemcpyAsync", "source");
    if (kind == cudaMemcpyDefault) {
        emu_complain("cudaMemcpyAsync", "the backend names every copy's direction");
        ok = false;
    }
    if ((dd && emu_is_device(dst)) || (sd && emu_is_device(src))) {
        emu_complain("cudaMemcpyAsync", "a host pointer that is device memory (direction %d)", (int) kind);
        ok = false;
    }
    if (!ok) return last_error = cudaErrorInvalidValue;
    /* CUDA's rules: pageable host memory is read (host to device) at once
     * and written (device to host) before the call returns; pinned memory
     * is an asynchronous transfer, done when the stream gets there */
    if (kind == cudaMemcpyHostToDevice && !is_pinned(src)) {
        auto copy = std::make_shared<std::vector<char>>((const char *) src, (const char *) src + bytes);
        emu_enqueue([dst, copy] { memcpy(dst, copy->data(), copy->size()); });
    } else if (kind == cudaMemcpyDeviceToHost && !is_pinned(dst)) {
        emu_drain();
        memcpy(dst, src, bytes);
    } else {
        emu_enqueue([dst, src, bytes] { memmove(dst, src, bytes); });
    }
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t bytes, cudaStream_t s) {
    if (!emu_device_range(p, bytes, "cudaMemsetAsync", "destination"))
        return last_error = cudaErrorInvalidValue;
    emu_enqueue([p, value, bytes] { memset(p, value, bytes); });
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total) {
    *total = capacity();
    *free_b = *total > in_use ? *total - in_use : 0;
    return cudaSuccess;
}

/* ---- device, stream, errors ---- */

namespace {
int stream_token;
int current_device;

int device_count() {
    const char *n = getenv("NS_CUDA_EMU_DEVICES");
    return n ? atoi(n) : 1;
}
} // namespace

cudaError_t cudaGetDeviceCount(int *count) {
    *count = device_count();
    return *count > 0 ? cudaSuccess : cudaErrorNoDevice;
}

cudaError_t cudaSetDevice(int d) {
    if (d < 0 || d >= device_count()) return last_error = cudaErrorInvalidDevice;
    current_device = d;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int d) {
    if (d < 0 || d >= device_count()) return cudaErrorInvalidDevice;
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "host emulation of a GPU");
    /* NS_CUDA_EMU_CC=7 plays a GPU without bfloat16 convolutions */
    const char *cc = getenv("NS_CUDA_EMU_CC");
    prop->major = cc ? atoi(cc) : 9;
    prop->totalGlobalMem = capacity();
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned int flags) {
    *s = (cudaStream_t) &stream_token;
    return cudaSuccess;
}

static bool known_stream(cudaStream_t s, const char *api) {
    if (s == (cudaStream_t) &stream_token) return true;
    emu_complain(api, "unknown stream %p", (void *) s);
    return false;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
    return known_stream(s, "cudaStreamDestroy") ? cudaSuccess : cudaErrorInvalidResourceHandle;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    if (!known_stream(s, "cudaStreamSynchronize")) return cudaErrorInvalidResourceHandle;
    emu_drain(); /* launch errors were cudaGetLastError's when queued */
    return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError(void) {
    return last_error;
}

const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess:
        return "no error";
    case cudaErrorMemoryAllocation:
        return "out of memory";
    case cudaErrorInvalidValue:
        return "invalid argument";
    case cudaErrorInvalidConfiguration:
        return "invalid configuration argument";
    case cudaErrorInvalidDevice:
        return "invalid device ordinal";
    case cudaErrorNoDevice:
        return "no CUDA-capable device is detected";
    default:
        return "emulated CUDA error";
    }
}

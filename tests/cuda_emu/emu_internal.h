/* emu_internal.h - what the emulated runtime, cuDNN and cuBLAS share. */
#ifndef NS_CUDA_EMU_INTERNAL_H
#define NS_CUDA_EMU_INTERNAL_H

#include <cuda_bf16.h>
#include <functional>
#include <stddef.h>
#include <stdint.h>

/* Prints "cuda-emu: <api>: ..." to stderr: a misuse the real library would
 * reject or, worse, accept.  The caller then returns an error status. */
void emu_complain(const char *api, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether [p, p + bytes) lies inside one device allocation; complains if not. */
bool emu_device_range(const void *p, size_t bytes, const char *api, const char *what);
/* Whether p points into any device allocation. */
bool emu_is_device(const void *p);

/* Work on the one stream runs when the host waits for it, as on a GPU: a
 * result read before cudaStreamSynchronize is stale. */
void emu_enqueue(std::function<void()> op);
void emu_drain(void);

/* Element loads and stores by cuDNN/cuBLAS data type (float or bfloat16). */
static inline float emu_load(const void *p, bool bf16, size_t i) {
    return bf16 ? __bfloat162float(((const __nv_bfloat16 *) p)[i]) : ((const float *) p)[i];
}
static inline void emu_store(void *p, bool bf16, size_t i, float v) {
    if (bf16)
        ((__nv_bfloat16 *) p)[i] = __float2bfloat16(v);
    else
        ((float *) p)[i] = v;
}

/* What tensor cores do to a float32 input in TF32 mode: 10 mantissa bits,
 * rounded to nearest. */
static inline float emu_tf32(float v) {
    union {
        float f;
        uint32_t u;
    } x = {v};
    if ((x.u & 0x7f800000u) != 0x7f800000u) x.u = (x.u + 0xfffu + ((x.u >> 13) & 1u)) & ~0x1fffu;
    return x.f;
}

#endif /* NS_CUDA_EMU_INTERNAL_H */

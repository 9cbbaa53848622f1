/* blas_core.c - OpenBLAS's kernels on CPUs newer than the OpenBLAS.
 *
 * OpenBLAS (a DYNAMIC_ARCH build, as Debian's) picks its kernels by the
 * CPU's family and model when it loads.  A version older than the CPU
 * (Debian 12 has 0.3.21) does not know the model and falls back to its
 * Prescott kernels, SSE3 only: on a 2-core Xeon of 2024 (family 6, model
 * 207, AVX-512) sgemm ran at 60 GFLOP/s against 304 with the SkylakeX
 * kernels the CPU supports.  So when OpenBLAS has fallen back, this asks
 * it again, before any BLAS call, with OPENBLAS_CORETYPE set to the
 * kernels the CPU's features allow: SkylakeX with AVX-512 (F, CD, BW, DQ,
 * VL), Haswell with AVX2 and FMA, those OpenBLAS itself uses on the CPUs
 * it knows with these features.  OpenBLAS reads that variable in its own
 * constructor, before this one; gotoblas_dynamic_quit and _init (exported
 * by DYNAMIC_ARCH builds; weak here, so that any other build links) choose
 * anew.  A CPU that OpenBLAS knows, or a value the user set, is left be.
 */
#include "backend_cpu.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

static const char *chosen;

__attribute__((constructor)) static void pick_blas_core(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    const char *now = openblas_get_corename();
    if (getenv("OPENBLAS_CORETYPE") || !gotoblas_dynamic_init || !gotoblas_dynamic_quit || !now ||
        strcmp(now, "Prescott"))
        return;
    const char *core = NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        core = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        core = "Haswell";
    if (!core || setenv("OPENBLAS_CORETYPE", core, 1)) return;
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    now = openblas_get_corename();
    if (now && !strcmp(now, core)) chosen = core;
#endif
}

const char *ns_blas_core_set(void) {
    return chosen;
}

/* stale_backend.c - a GPU module from another build of neural-style, for
 * run_cli_tests.sh: -DAPI=N exports backend API N, without it none (as
 * modules did before the version).  Its entry point must never be called. */
#include "backend.h"

#include <stdlib.h>

#ifdef API
__attribute__((visibility("default"))) int ns_backend_api_version(void) {
    return API;
}
#endif

__attribute__((visibility("default"))) enum ns_status ns_backend_cuda_new(int device_index, struct ns_backend **out,
                                                                          char *err, size_t err_len) {
    (void) device_index, (void) out, (void) err, (void) err_len;
    abort();
}

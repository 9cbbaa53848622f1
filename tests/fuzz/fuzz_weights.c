/* fuzz_weights.c - libFuzzer target for the weights loader: any bytes are
 * a loaded model or a status with a sentence, never a crash, a leak or
 * undefined behaviour (built with ASan and UBSan; make test-fuzz). */
#define _GNU_SOURCE
#include "weights.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* the loader reads a path: an in-memory file behind one */
    int fd = memfd_create("weights", 0);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t) size) {
        close(fd);
        return 0;
    }
    char path[64], err[512] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct ns_weights w;
    enum ns_status st = ns_weights_load(path, &w, err, sizeof err);
    if (st == NS_STATUS_OK)
        ns_weights_free(&w);
    else if (!err[0])
        __builtin_trap(); /* every refusal says why */
    close(fd);
    return 0;
}

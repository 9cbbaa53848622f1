/* fuzz_styles.c - libFuzzer target for the fast styles' two readers: the
 * model file loader (safetensors) and the ONNX importer.  Any bytes are a
 * model or a status with a sentence, never a crash, a leak or undefined
 * behaviour (built with ASan and UBSan; make test-fuzz). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ns.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void check(enum ns_status st, struct ns_style_model *m, const char *err) {
    if (st == NS_STATUS_OK) {
        size_t n = 0;
        free(ns_style_model_thumbnail(m, &n)); /* the painting's picture, if any */
        ns_style_model_free(m);
    }
    else if (!err[0])
        __builtin_trap(); /* every refusal says why */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ns_style_model *m = NULL;
    char err[512] = "";
    check(ns_style_model_import_onnx_mem(data, size, "fuzz.onnx", &m, err, sizeof err), m, err);
    /* the loader reads a path: an in-memory file behind one */
    int fd = memfd_create("style", 0);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t) size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    err[0] = 0;
    check(ns_style_model_load(path, &m, err, sizeof err), m, err);
    close(fd);
    return 0;
}

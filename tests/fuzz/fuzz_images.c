/* fuzz_images.c - libFuzzer target for the command line's decoders: any
 * bytes are an image or a refusal with a sentence naming the file, never a
 * crash, a leak or undefined behaviour in our code (make fuzz-images). */
#define _GNU_SOURCE
#include "image_io.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool ready;
    if (!ready) io_init(), ready = true;
    int fd = memfd_create("image", 0);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t) size) {
        close(fd);
        return 0;
    }
    char path[64], err[600] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct io_image im;
    if (io_load(path, &im, err, sizeof err))
        io_free(&im);
    else if (!strstr(err, path) || strchr(err, '\n')) {
        fprintf(stderr, "a refusal that is not one line naming the file: [%s]\n", err);
        __builtin_trap(); /* every refusal is one line naming the file */
    }
    close(fd);
    return 0;
}

/* write_seeds.c - the fuzz target's starting corpus: small weights files
 * the loader accepts (one layer of VGG-19 and of VGG-16, each convention),
 * so that mutations start inside the format rather than from nothing. */
#include "../testlib.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: write_seeds DIR\n");
        return 2;
    }
    static const char *const metas[] = {
        NULL,
        "\"architecture\":\"vgg16\",\"input_channel_order\":\"RGB\",\"input_range\":\"0..1\","
        "\"input_mean\":\"0.485,0.456,0.406\",\"input_std\":\"0.229,0.224,0.225\"",
    };
    for (int i = 0; i < 2; i++) {
        struct ns_weights w;
        char path[4096];
        random_weights(&w, i ? 16 : 19, 1);
        snprintf(path, sizeof path, "%s/seed-%d.safetensors", argv[1], i);
        bool ok = write_safetensors(path, &w, metas[i]);
        ns_weights_free(&w);
        if (!ok) return 1;
    }
    return 0;
}

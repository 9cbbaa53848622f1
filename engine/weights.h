/* weights.h - VGG conv weights read from safetensors(private). */
#ifndef NS_WEIGHTS_H
#define NS_WEIGHTS_H

#include "ns.h"

struct ns_conv_weights {
    char name[16]; /* "conv3_1" */
    int block;     /* 1..5 */
    int index;     /* 1..4 within the block */
    int cin, cout;
    float *weight; /* host, [cout][cin][3][3] */
    float *bias;   /* host, [cout] */
};

struct ns_weights {
    int arch;     /* 16 or 19 */
    int n_layers; /* conv layers present: a prefix of the network */
    struct ns_conv_weights layer[NS_MAX_LAYERS];
    /* input convention: network channel c = a[c] * u[perm[c]] + b[c],
     * u = gamma-encoded R'G'B' in 0..1 */
    int perm[3];
    float a[3], b[3];
    char convention[96]; /* "BGR 0..255 mean ... (Caffe)" for messages */
};

/* VGG's layout: conv layers per block and their output channels. */
int ns_vgg_block_convs(int arch, int block);
int ns_vgg_block_channels(int block);

/* Reads and checks the whole file; on failure fills err with one sentence. */
enum ns_status ns_weights_load(const char *path, struct ns_weights *w, char *err, size_t err_len);
void ns_weights_free(struct ns_weights *w);

#endif /* NS_WEIGHTS_H */

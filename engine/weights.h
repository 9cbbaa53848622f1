/* weights.h - VGG conv weights read from and written to safetensors (private). */
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

/* Conv layer k (0-based, network order) of VGG-<arch>: fills L's name,
 * block, index, cin and cout (not its tensors); false past the last one.
 * The one walk over the layout: for (k = 0; ns_vgg_conv_layout(...); k++). */
bool ns_vgg_conv_layout(int arch, int k, struct ns_conv_weights *L);

/* Whether a file has conv blockB_convI where VGG-<arch> puts it; arch
 * matters only for names by position (torchvision's features.N). */
typedef bool (*ns_vgg_has_conv_fn)(void *user, int arch, int block, int index);

/* 16 or 19 from the conv layers a file has, for files that do not say. */
int ns_vgg_arch_from_convs(ns_vgg_has_conv_fn has, void *user);

/* __metadata__ members for VGG-<arch> (the %d) in Caffe's input convention,
 * which Keras's VGG weights share. */
#define NS_META_CAFFE_FMT                                                                                    \
    "\"architecture\":\"vgg%d\",\"input_channel_order\":\"BGR\",\"input_range\":\"0..255\","                 \
    "\"input_mean\":\"103.939,116.779,123.68\",\"input_std\":\"1,1,1\""

/* Reads and checks the whole file; on failure fills err with one sentence. */
enum ns_status ns_weights_load(const char *path, struct ns_weights *w, char *err, size_t err_len);
void ns_weights_free(struct ns_weights *w);

/* Writes w's layers as F32 safetensors named conv<B>_<I>.weight/.bias,
 * whole or not at all through ns_file_* (ns.h): on any failure the file
 * at PATH is unchanged and no temporary is left.  meta: the members of
 * __metadata__ as JSON text, or NULL for NS_META_CAFFE_FMT with w->arch.
 * NS_STATUS_INVALID_ARGUMENT when meta is not JSON members,
 * NS_STATUS_IO_ERROR when the file cannot be written; err then says the
 * file and the cause in one line ("cannot write 'x.safetensors': no space
 * left on the device; the file there is unchanged"). */
enum ns_status ns_weights_save(const char *path, const struct ns_weights *w, const char *meta, char *err,
                               size_t err_len);

#endif /* NS_WEIGHTS_H */

/* ffnet.h - feed-forward style networks as tables of steps (private).
 *
 * An architecture is a list of steps over one running tensor; a new
 * network (a half-width one for previews, say) is a new table, not new
 * code.  The model file names each step's tensors "<name>.weight" and
 * "<name>.bias", as PyTorch's state_dict does.
 */
#ifndef NS_FFNET_H
#define NS_FFNET_H

#include "ns.h"

struct ns_backend;
struct ns_buf;

#define NS_FF_MAX_STEPS 64

enum ns_ff_kind {
    NS_FF_CONV, /* reflection padding of k / 2, then a k x k convolution at stride */
    NS_FF_NORM, /* affine instance normalisation (eps 1e-5), then ReLU when relu */
    NS_FF_SAVE, /* keeps the tensor for the next ADD */
    NS_FF_ADD,  /* adds the kept tensor */
    NS_FF_UP,   /* nearest-neighbour upsampling x 2 */
};

struct ns_ff_step {
    enum ns_ff_kind kind;
    char name[32];          /* the tensors' prefix */
    int cin, cout, k, stride; /* NS_FF_CONV; NS_FF_NORM: cout channels */
    bool relu;
};

struct ns_ff_arch {
    const char *name;  /* the model file's "architecture" */
    float in_scale;    /* network input = in_scale * R'G'B' (0..1); output / in_scale */
    int n_steps;
    struct ns_ff_step steps[NS_FF_MAX_STEPS];
};

/* The architecture called name, NULL if none; ns_ff_arch_names lists them
 * (NULL-terminated). */
const struct ns_ff_arch *ns_ff_arch_find(const char *name);
const char *const *ns_ff_arch_names(void);

/* The tensor shape of step s's weight (part 0) or bias (part 1); returns
 * its rank, 0 when the step has no such tensor. */
int ns_ff_param_shape(const struct ns_ff_step *s, int part, int64_t shape[4]);
/* Elements of that tensor; 0 = none. */
size_t ns_ff_param_count(const struct ns_ff_step *s, int part);
/* The same for step i of m as m holds it: a norm's are n_styles x c when
 * m holds several styles (ns_ff_model_shape: rank 2, else as above). */
int ns_ff_model_shape(const struct ns_style_model *m, int i, int part, int64_t shape[4]);
size_t ns_ff_model_count(const struct ns_style_model *m, int i, int part);

/* Styles one model may hold (conditional instance norm). */
#define NS_FF_MAX_STYLES NS_MAX_STYLES

struct ns_style_model {
    const struct ns_ff_arch *arch;
    /* Dumoulin et al. 2017's conditional instance norm: the styles share
     * every convolution; each has its own norms' scales and shifts, row k
     * of a norm's n_styles x c weight and bias (1 x c for one style) */
    int n_styles;
    float *param[NS_FF_MAX_STEPS][2]; /* host: each step's weight and bias */
    int n_info;
    char *info_key[32], *info_value[32];
};

/* The running tensor's channels, height and width after each step, for an
 * input of h x w (any size: strided convolutions round up, as PyTorch's). */
struct ns_ff_shape {
    int c[NS_FF_MAX_STEPS + 1], h[NS_FF_MAX_STEPS + 1], w[NS_FF_MAX_STEPS + 1];
    double flops; /* multiply-adds x 2 of the convolutions */
};
void ns_ff_shape(const struct ns_ff_arch *a, int h, int w, struct ns_ff_shape *out);

/* Step i's instance norm as a per-channel scale a and shift b, from the
 * sums and sums of squares (mom, interleaved) of its c channels over count
 * pixels: in memory (stylize.c) and in bands (stylize_stream.c) alike. */
void ns_ff_norm_coeffs(const struct ns_style_model *m, int i, int c, double count, const double *mom, float *a,
                       float *b);

/* The progress of one forward pass: the convolutions' share of its flops. */
struct ns_ff_progress {
    bool (*fn)(float done, void *data);
    void *data;
    double done;
};
/* Counts step i (of a on shapes sh) as done and reports it; false when the
 * caller asked to stop. */
bool ns_ff_progress_step(struct ns_ff_progress *p, const struct ns_ff_arch *a, const struct ns_ff_shape *sh, int i);

/* stylize_stream.c: the network over input (3 x h x w on the host, in its
 * units) layer by layer in bands of rows through temporary files, with
 * the whole image's normalisation statistics; the output (3 x oh x ow,
 * ns_ff_shape's last) into output.  param: the weights on be.  budget:
 * bytes for a band's buffers; band > 0 forces that many rows per band;
 * pr reports each convolution (NULL = none).
 * On failure why holds a sentence. */
enum ns_status ns_ff_stream(struct ns_backend *be, const struct ns_style_model *m, struct ns_buf *const param[][2],
                            const float *input, int h, int w, double budget, int band, struct ns_ff_progress *pr,
                            float *output, char *why, size_t why_len);

/* Writes m (its tensors and metadata) whole or not at all (the ONNX
 * importer, the tests); err as ns_st_save's. */
enum ns_status ns_style_model_save(const char *path, const struct ns_style_model *m, char *err, size_t err_len);
/* Writes m with, when state is not NULL, Adam's moments state[i][part][0]
 * and [1] as "adam_m.<tensor>" and "adam_v.<tensor>": whole or not at all. */
enum ns_status ns_style_model_save_state(const char *path, const struct ns_style_model *m,
                                         float *const (*state)[2][2], char *err, size_t err_len);
/* Step s's tensor name: prefix, its name, ".weight" (part 0) or ".bias". */
void ns_ff_tensor_name(const struct ns_ff_step *s, int part, const char *prefix, char *out, size_t len);
/* m's metadata as JSON members ("\"k\":\"v\",...", g_free). */
char *ns_style_model_info_members(const struct ns_style_model *m);
/* Sets a metadata value (at most 32 keys). */
enum ns_status ns_style_model_set_info(struct ns_style_model *m, const char *key, const char *value);

#endif /* NS_FFNET_H */

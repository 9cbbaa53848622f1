/* ns.h - Neural Style engine: Gatys et al. style transfer over VGG features.
 *
 * Public API.  Every call returns an enum ns_status; a runtime problem (bad
 * file, out of memory, backend error, NaN) is reported, never fatal.
 * Images are caller-owned float buffers of gamma-encoded sRGB in 0..1 units
 * (babl's "R'G'B' float" / "R'G'B'A float").
 */
#ifndef NS_H
#define NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NS_VERSION_STRING "0.1.0"
#define NS_MAX_LAYERS     16 /* conv layers of VGG-19 */
#define NS_MAX_STYLES     8
/* Limits of struct ns_params that ns_run accepts; front ends take their
 * ranges from here. */
#define NS_PARAM_ITERATIONS_MAX  100000
#define NS_PARAM_SIZE_MAX        16384 /* pixels, the longest side */
#define NS_PARAM_STYLE_SCALE_MIN 0.05
#define NS_PARAM_STYLE_SCALE_MAX 8.0
#define NS_PARAM_MAX_MEMORY_MAX  1e12 /* bytes */
/* Finer levels of the coarse-to-fine schedule get at least
 * iterations / NS_LEVEL_ITERATIONS_FLOOR steps (ns_level_iterations). */
#define NS_LEVEL_ITERATIONS_FLOOR 32
/* L-BFGS keeps at least this many pairs when the memory budget shortens
 * its history; a level that cannot is refused. */
#define NS_LBFGS_HISTORY_MIN 3
#define NS_PARAM_MARGIN_MAX  256
#define NS_PARAM_SCALES_MAX  8
#define NS_PARAM_LBFGS_HISTORY_MAX 400
#define NS_PARAM_ACTIVATION_SHIFT_MAX 1000.0

enum ns_status {
    NS_STATUS_OK = 0,
    NS_STATUS_INVALID_ARGUMENT,
    NS_STATUS_IO_ERROR,    /* a file cannot be opened or read */
    NS_STATUS_BAD_WEIGHTS, /* the weights file is malformed or incomplete */
    NS_STATUS_OUT_OF_MEMORY,
    NS_STATUS_BACKEND_ERROR, /* the compute device failed (CUDA error...) */
    NS_STATUS_UNAVAILABLE,   /* the requested backend is not usable here */
    NS_STATUS_NUMERIC_ERROR, /* the optimisation produced NaN or Inf */
    NS_STATUS_CANCELLED,     /* the progress callback asked to stop */
};

enum ns_backend_kind {
    NS_BACKEND_AUTO = 0, /* CUDA when a usable GPU exists, else the CPU */
    NS_BACKEND_CPU = 1,
    NS_BACKEND_CUDA = 2,
};

enum ns_optimizer {
    NS_OPTIMIZER_LBFGS = 0,
    NS_OPTIMIZER_ADAM = 1,
};

enum ns_init {
    NS_INIT_CONTENT = 0,
    NS_INIT_NOISE = 1,
    NS_INIT_MODEL = 2, /* a fast style's result (params.init_model) */
    NS_INIT_IMAGE = 3, /* params.init_image */
};

/* Arithmetic of the convolutions and matrix products on the GPU; the CPU
 * always computes in float32. */
enum ns_precision {
    NS_PRECISION_FP32 = 0, /* float32 throughout */
    NS_PRECISION_TF32 = 1, /* tensor cores with TF32 inputs, float32 accumulation */
    NS_PRECISION_BF16 = 2, /* network tensors stored in bfloat16, float32 accumulation;
                              the image and the optimiser stay float32 */
};

enum ns_pooling {
    NS_POOLING_MAX = 0,
    NS_POOLING_AVG = 1,
};

/* Per-layer weights of unweighted layers in the lists. */
enum ns_layer_weights {
    NS_LAYER_WEIGHTS_UNIFORM = 0,   /* 1 / (number of layers) */
    NS_LAYER_WEIGHTS_GEOMETRIC = 1, /* Novak & Nikulin: layers numbered by depth d = 1..D,
                                       style 2^(D-d), content 2^d, each normalised to sum 1 */
};

/* A caller-owned image: rows of `stride` floats, pixels of `channels`
 * floats (3 = R'G'B', 4 = R'G'B'A; alpha is carried, never optimised). */
struct ns_image {
    float *data;
    int width;
    int height;
    int channels;
    int stride; /* floats per row, >= width * channels */
};

struct ns_params {
    int size;          /* longest side to optimise at; 0 = content's own */
    int iterations;    /* at the coarsest level; each finer one gets an eighth
                          as many (ns_level_iterations); 0 = evaluate the
                          initial image only */
    int scales;        /* coarse-to-fine levels, each half the next; 0 = auto */
    int tile;          /* evaluate in tiles of about this side, px (0 = automatic:
                          whole levels, or tiles where the budget needs them) */
    double max_memory; /* bytes a run may allocate on its backend (and, on the
                          CPU, the engine's own image buffers); 0 = what the
                          backend has free, less a fifth */
    int margin;        /* px of canvas, the photo mirrored, optimised around
                          each level and cut off, so that the network's zero
                          padding leaves no line along the edges (0 = none) */

    enum ns_optimizer optimizer;
    float learning_rate; /* Adam step, in 0..1 pixel units */
    int lbfgs_history;   /* L-BFGS correction pairs kept */

    enum ns_init init;
    const struct ns_image *init_image; /* for NS_INIT_IMAGE */
    const char *init_model; /* for NS_INIT_MODEL: a fast style's model file or
                               installed name (ns_style_resolve); the photo
                               through it at the output size is the start */
    uint64_t seed;

    float content_weight;
    float style_weight;
    float tv_weight;

    /* Comma-separated layer names, each optionally ":weight", e.g.
     * "relu1_1,relu2_1:0.5".  NULL or "" = defaults for the weights file;
     * "all" = every layer the file has.  Unweighted layers get their share
     * by layer_weights. */
    const char *content_layers;
    const char *style_layers;

    const float *style_blend; /* n_styles weights (normalised); NULL = equal */
    /* One style per region (Gatys et al. 2017): style k acts where
     * style_masks[k] is white (the first channel, 0..1, any size: resampled
     * to the photo's; data NULL = everywhere), with its own target; where
     * every mask is 0 only content and TV act, and the result is the photo
     * itself.  n_style_masks = 0 (no regions) or n_styles.  Blend weights
     * then scale each region's term, normalised to mean 1.  Whole levels
     * only: no tiles, no correlation chain. */
    const struct ns_image *style_masks;
    int n_style_masks;
    float style_scale;        /* style longest side = content's * style_scale */
    bool preserve_colors;     /* keep the content's chroma (CIE Lab swap), after the run */
    bool match_colors;        /* before the run, the painting's colour mean and covariance
                                 mapped onto the photo's (Gatys et al. 2017) */
    enum ns_layer_weights layer_weights;
    float activation_shift; /* Grams of F + X (Novak & Nikulin use -1), image and
                               targets alike, in the activations' own units */
    bool correlation_chain; /* cross-layer Grams of adjacent style layers added to the
                               style term; needs whole levels (no tiles) */

    enum ns_pooling pooling;
    int threads; /* CPU threads; 0 = all cores */
    enum ns_precision precision;
};

/* One report per iteration (iteration 0 is the initial image). */
struct ns_progress {
    int iteration; /* 0..total, counted over all scales */
    int total;
    int scale; /* 0 = coarsest */
    int n_scales;
    int width, height;            /* size being optimised now */
    int tile;                     /* tile side at this level, px; 0 = the whole level */
    int history;                  /* L-BFGS pairs kept at this level: fewer than
                                     params.lbfgs_history when the budget needs it */
    int block;                    /* when even tiles leave no room for the optimiser's
                                     state: the level is optimised block by block, in
                                     blocks of this side, px (= tile); else 0 */
    double loss;                  /* weighted total */
    double content;               /* unweighted L_c */
    double style;                 /* unweighted L_s */
    double tv;                    /* unweighted L_tv */
    double elapsed;               /* seconds since the optimisation began */
    double eta;                   /* seconds left, estimated; < 0 = unknown */
    enum ns_backend_kind backend; /* computing now: auto mode may leave the GPU
                                     mid-run (ns_context_backend_info says why) */
};

/* Return false to cancel the run. */
typedef bool (*ns_progress_fn)(const struct ns_progress *progress, void *user_data);

struct ns_context;

struct ns_params ns_params_default(void);
const char *ns_status_str(enum ns_status status);
const char *ns_backend_name(enum ns_backend_kind kind);

/* Loads the weights and opens the backend.  NULL weights_path = the first
 * of ns_find_weights().  On failure *ctx may still be set so that
 * ns_last_error() can tell why; free it with ns_context_free(). */
enum ns_status ns_context_new(const char *weights_path, enum ns_backend_kind backend,
                              struct ns_context **ctx);
enum ns_status ns_context_new_ex(const char *weights_path, enum ns_backend_kind backend, int gpu_index,
                                 struct ns_context **ctx);
/* A context without VGG weights, for what needs only a device: applying
 * fast styles (ns_stylize). */
enum ns_status ns_context_new_device(enum ns_backend_kind backend, int gpu_index, struct ns_context **ctx);
void ns_context_free(struct ns_context *ctx);

/* A human sentence for the last failure on this context ("" if none). */
const char *ns_last_error(const struct ns_context *ctx);
/* Backend in use ("CPU (OpenBLAS, 2 threads)", "CUDA: NVIDIA H100 ...") and
 * why auto mode chose it. */
const char *ns_context_backend(const struct ns_context *ctx);
enum ns_backend_kind ns_context_backend_kind(const struct ns_context *ctx);
/* Why a context computes where it does, in parts that a front end words in
 * its own language (ns_context_backend() is the English account). */
enum ns_gpu_state {
    NS_GPU_USED = 0,      /* runs go to the GPU */
    NS_GPU_NOT_ASKED,     /* the CPU was asked for */
    NS_GPU_NOT_INSTALLED, /* libns-cuda.so is missing or cannot be loaded */
    NS_GPU_ABSENT,        /* no NVIDIA GPU, or no driver for it */
    NS_GPU_FAILED,        /* the GPU could not start, or failed during a run */
    NS_GPU_OUT_OF_MEMORY, /* a run did not fit on the GPU */
};

struct ns_backend_info {
    enum ns_backend_kind kind; /* in use: CPU or CUDA */
    int threads;               /* CPU threads; 0 on a GPU */
    const char *device;        /* the GPU's name; "" on the CPU */
    enum ns_gpu_state gpu;
    const char *detail; /* the English reason behind gpu, "" if none */
};
void ns_context_backend_info(const struct ns_context *ctx, struct ns_backend_info *info);
/* CPU threads for this context's runs (0 = all cores).  More than the cores
 * this process may run on are capped, since they only add memory and
 * switches; *used (may be NULL) gets the number used, 0 on a GPU. */
enum ns_status ns_context_set_threads(struct ns_context *ctx, int threads, int *used);
/* Bytes the context's backend has free now (GPU memory, or what this
 * process may still take on the CPU). */
size_t ns_context_memory_free(const struct ns_context *ctx);

/* The precision runs on this backend get when asked for `want`: the CPU
 * always computes in float32, and bf16 needs a GPU of compute capability 8
 * (Ampere) or newer, else float32. */
enum ns_precision ns_context_precision(const struct ns_context *ctx, enum ns_precision want);

/* Layers the weights file has, as "relu1_1,relu1_2,...", and the defaults
 * chosen for it. */
const char *ns_context_layers(const struct ns_context *ctx);
const char *ns_context_default_content_layers(const struct ns_context *ctx);
const char *ns_context_default_style_layers(const struct ns_context *ctx);

/* Steps at coarse-to-fine level `level` (0 = coarsest) of a run of
 * `iterations`: iterations >> 3 * level, at least iterations /
 * NS_LEVEL_ITERATIONS_FLOOR (rounded up). */
int ns_level_iterations(int iterations, int level);

/* Size of the result for a content image of w x h under params. */
void ns_output_size(const struct ns_params *params, int w, int h, int *out_w, int *out_h);

/* How a run computes one coarse-to-fine level (ns_estimate_levels). */
struct ns_level_info {
    int width, height; /* the level's size */
    int iterations;    /* its steps */
    int tile;          /* tile side, px; 0 = the whole level */
    int block;         /* block side when optimised block by block; else 0 */
    int history;       /* L-BFGS pairs */
    double bytes;      /* its estimated peak */
    double device_bytes; /* of bytes, what the run allocates on the backend
                            at once (the rest: weights, the ops' workspace,
                            the engine's host images) */
};

/* The levels a run of params would compute, at most `max` of them into
 * `levels`; returns their number.  As ns_estimate_memory plans them. */
int ns_estimate_levels(const struct ns_context *ctx, const struct ns_params *params, int w, int h,
                       int style_w, int style_h, struct ns_level_info *levels, int max);

/* Bytes the run would allocate on the backend (CPU RAM or GPU memory) for a
 * content of w x h and a style of style_w x style_h, with the tiles and the
 * L-BFGS history it would choose to fit params.max_memory; answered without
 * allocating.  More than the budget when nothing fits.  ctx may be NULL
 * (then a full VGG-19 is assumed, and no budget). */
size_t ns_estimate_memory(const struct ns_context *ctx, const struct ns_params *params, int w, int h,
                          int style_w, int style_h);

/* The largest longest side, at most the content's own, at which a run of
 * params fits its budget (params.max_memory, or what the backend has free
 * less a fifth, for everything else on the machine), in tiles where
 * needed; 0 when not even 64 px fits.  params->size is ignored. */
int ns_largest_size(const struct ns_context *ctx, const struct ns_params *params, int w, int h, int style_w,
                    int style_h);

/* The work a whole run takes (every scale, iteration, forward and backward
 * pass, the targets): floating-point operations and evaluations of the
 * objective.  ns_estimate_flops() is its flops. */
struct ns_work {
    double flops;
    double evaluations;
};
struct ns_work ns_estimate_work(const struct ns_context *ctx, const struct ns_params *params, int w, int h,
                                int style_w, int style_h);
double ns_estimate_flops(const struct ns_context *ctx, const struct ns_params *params, int w, int h,
                         int style_w, int style_h);

/* Everything the front ends tell before a run, in one pass of the planner
 * (ns_plan): the size it works at, its levels, memory and work. */
#define NS_PLAN_MAX_LEVELS 8
struct ns_plan_info {
    int size;           /* the params.size the run takes: params.size, or under
                           NS_PLAN_FIT_SIZE the largest that fits */
    bool capped;        /* size was lowered from the photo's own to fit */
    int width, height;  /* the result's size (ns_output_size at size) */
    int n_levels;
    struct ns_level_info levels[NS_PLAN_MAX_LEVELS];
    double bytes;       /* the largest level's peak (ns_estimate_memory) */
    double budget;      /* bytes the run may take; INFINITY = no limit known */
    bool fits;          /* bytes <= budget */
    struct ns_work work;   /* ns_estimate_work */
    double overhead_flops; /* the time model's first guess of an evaluation's
                              fixed cost, as flops (ns_plan_seconds) */
};
/* NS_PLAN_FIT_SIZE: params.size 0 (the photo's own size) is lowered to the
 * largest that fits the budget when the own size does not (the plug-in's
 * Final; ns_largest_size). */
#define NS_PLAN_FIT_SIZE 1u
/* The plan of a run of params on ctx's backend (ctx may be NULL: a full
 * VGG-19 on the CPU, no budget) for a content of w x h and a style of
 * style_w x style_h, answered without allocating.  Memory is counted by
 * making the run's own allocations on a backend that only counts them. */
void ns_plan(const struct ns_context *ctx, const struct ns_params *params, int w, int h, int style_w,
             int style_h, unsigned flags, struct ns_plan_info *out);

/* A finished run on some backend: its work and the seconds it took (the
 * last ns_progress.elapsed), divided by ns_context_last_slowdown so that a
 * run on a busy machine does not make the next estimates slow. */
struct ns_timing {
    struct ns_work work;
    double seconds;
};

/* Seconds a run of `work` should take on ctx's backend, from n earlier
 * timings on that backend (n = 0: a first guess).  The model is
 * seconds = u * flops + v * evaluations: v is the cost per evaluation that
 * does not shrink with the image, so a tiny run predicts a large one. */
double ns_estimate_seconds(const struct ns_context *ctx, struct ns_work work, const struct ns_timing *past,
                           int n);

/* ns_estimate_seconds for a plan (ns_plan), without planning again. */
double ns_plan_seconds(const struct ns_context *ctx, const struct ns_plan_info *plan, const struct ns_timing *past,
                       int n);

/* How many times longer than on an idle machine a run on ctx would take
 * now, from the CPU time other processes take: (the run's threads + their
 * demand for cores) / the cores, at least 1 (1 on a GPU).  It samples the
 * CPUs over 0.1 s, or since its last call on ctx when that was 0.25 to 30 s
 * ago (a dialog's refreshes then cost nothing). */
double ns_context_slowdown(struct ns_context *ctx);
/* The same for the last ns_run on ctx, over the time it ran (1 before any):
 * its seconds divided by this are what an idle machine would have taken,
 * the timing the model wants (ns_timing.seconds). */
double ns_context_last_slowdown(const struct ns_context *ctx);

/* Restyles content after styles[0..n_styles-1].  result must be allocated
 * by the caller with the size from ns_output_size() and 3 or 4 channels;
 * it is written only on NS_STATUS_OK (alpha copied from the content when
 * both have it, else 1). */
enum ns_status ns_run(struct ns_context *ctx, const struct ns_image *content, const struct ns_image *styles,
                      int n_styles, const struct ns_params *params, ns_progress_fn progress, void *user_data,
                      struct ns_image *result);

/* Named combinations of the options: "gatys2016" (the paper), "improved"
 * (Novak & Nikulin: average pooling, content relu5_2, activation shift -1,
 * all style layers, geometric weights, the chain), "faithful", "balanced"
 * and "painterly" (three strengths).  Sets only the fields the preset is
 * about, so that what is applied after it wins; INVALID_ARGUMENT for an
 * unknown name.  ns_preset_names() lists them, NULL-terminated. */
enum ns_status ns_params_preset(struct ns_params *params, const char *name);
const char *const *ns_preset_names(void);
/* After preset `name` and the options given after it: each layer list that
 * is still the preset's and names a layer ctx's weights lack goes back to
 * the file's default (NULL): improved's relu5_2 on weights that stop at
 * conv3_4.  Lists the person gave otherwise are left to ns_run's check. */
void ns_params_preset_fit(const struct ns_context *ctx, struct ns_params *params, const char *name);

/* The table of settings: every field of struct ns_params a person sets,
 * with its name (the command line's --NAME, GIMP 3's argument), type,
 * range, default, choices, help and where a dialog shows it.  Front ends
 * build their parsers, help, arguments and dialogs from it, and compare
 * presets through it; adding a setting is a row here plus the code that
 * uses it.  Labels and help are English; NS_N_ marks them for the
 * plug-in's gettext catalogue. */
#define NS_N_(s) s
enum ns_setting_type {
    NS_SETTING_INT,    /* int */
    NS_SETTING_FLOAT,  /* float */
    NS_SETTING_DOUBLE, /* double, shown divided by unit (max_memory: bytes, shown in GB) */
    NS_SETTING_BOOL,   /* bool: a flag */
    NS_SETTING_CHOICE, /* an enum whose values are the choices' indices */
    NS_SETTING_STRING, /* const char *, NULL = "" = the default */
    NS_SETTING_U64,    /* uint64_t */
};
enum ns_setting_place {
    NS_SETTING_MAIN,     /* a dialog's main column */
    NS_SETTING_ADVANCED, /* a dialog's Advanced section */
    NS_SETTING_HIDDEN,   /* arguments and the command line only */
};
struct ns_setting {
    const char *name; /* "style-weight" */
    enum ns_setting_type type;
    size_t offset; /* in struct ns_params */
    double min, max;
    bool min_excluded;          /* > min rather than >= min */
    double unit;                /* NS_SETTING_DOUBLE: shown value = stored / unit */
    const char *const *choices; /* NS_SETTING_CHOICE: NULL-terminated */
    const char *value_name;     /* "N", "X", "L,..": the help's placeholder */
    const char *label;          /* NS_N_: a dialog's label */
    const char *help;           /* NS_N_: one or two sentences */
    enum ns_setting_place place;
    bool preset;                /* a preset may set it: compared by ns_params_preset_of */
    /* The plug-ins' procedure arguments, in this order so that existing
     * scripts keep working: 1 = the first setting argument, 0 = none,
     * NS_SETTING_ARG_AUX = a setting of the machine that a plug-in keeps
     * with its dialog's values but no call passes.  A position no row takes
     * is the front end's own argument (the plug-ins' device). */
    int arg;
    const char *const *choice_labels; /* NS_N_: a dialog's words for the choices */
    int front_choices;                /* choices a plug-in offers, the first ones (0 = all) */
    bool style_name;                  /* NS_SETTING_STRING: an installed fast style's name
                                         (a dialog offers them) or a model file */
};
#define NS_SETTING_ARG_AUX (-1)
/* All rows, *n of them. */
const struct ns_setting *ns_settings(int *n);
/* The row called name (with or without "--"), NULL if none. */
const struct ns_setting *ns_setting_find(const char *name);
/* A row's value in p as a number (a choice's index, a flag's 0 or 1, a
 * double in its unit, a seed exactly up to 2^53); strings give 0. */
double ns_setting_get(const struct ns_setting *s, const struct ns_params *p);
/* Sets a numeric, choice or flag row from a number as ns_setting_get gives
 * it (a front end's widget or argument), not clamped to the row's range:
 * ns_params_check refuses what is out of it.  Strings and NaN are left
 * alone. */
void ns_setting_set(const struct ns_setting *s, struct ns_params *p, double v);
/* Reads `text` into p; a value that does not parse or is out of range is
 * refused with a sentence that names --NAME and the range.  Strings are
 * kept by pointer: text must outlive p. */
enum ns_status ns_setting_parse(const struct ns_setting *s, const char *text, struct ns_params *p, char *err,
                                size_t err_len);
/* Every numeric and choice row of p within its range (ns_run checks it
 * first); else a sentence naming the setting and its range. */
enum ns_status ns_params_check(const struct ns_params *p, char *err, size_t err_len);
/* The first preset that, applied to p, changes none of the table's preset
 * rows (strings compared as text, NULL as ""; an empty content layer list
 * matches any), NULL when each would change something. */
const char *ns_params_preset_of(const struct ns_params *p);

/* Keeps the colours of `content` in `image`: image's CIE L* with content's
 * a* b* (both the same size). */
enum ns_status ns_preserve_colors(const struct ns_image *content, struct ns_image *image);

/* Resamples src into dst (sizes from dst): area average when shrinking,
 * bicubic when enlarging.  Channels must match. */
enum ns_status ns_resize(const struct ns_image *src, struct ns_image *dst);

/* Where the weights are looked for, in order: $NS_WEIGHTS,
 * $XDG_DATA_HOME/neural-style/vgg19.safetensors (XDG_DATA_HOME defaults to
 * ~/.local/share), /usr/local/share/neural-style/vgg19.safetensors,
 * /usr/share/neural-style/vgg19.safetensors.  ns_find_weights() returns the
 * first that exists (malloc'ed, free() it) or NULL; ns_user_weights_path()
 * the per-user location install.sh writes (malloc'ed). */
char *ns_find_weights(void);
char *ns_user_weights_path(void);

/* Address space the process may still take under `ulimit -v` / `-d`,
 * bytes; SIZE_MAX when unlimited.  A run on the CPU needs at least
 * NS_MIN_ROOM_BYTES of it (one thread's OpenBLAS buffer and stack, babl's
 * extensions, the images, the smallest level; measured: babl crashed with
 * 280 MB left): a front end that finds less says so before it starts, since
 * some libraries (babl) do not survive a failed allocation. */
size_t ns_address_room(void);
#define NS_MIN_ROOM_BYTES ((size_t) 400 << 20)

/* Files written whole or not at all, for everything the project writes.
 * The bytes go to a new file in the target's folder that no one else can
 * name (O_TMPFILE, else an unpredictable name opened O_EXCL|O_NOFOLLOW);
 * every write, fsync and close is checked, and only then is it renamed over
 * the target, which keeps its permissions.  On any failure the target is
 * unchanged, nothing is left behind, and err says the file and the cause in
 * one line ("cannot write 'out.png': no space left on the device").
 * ns_file_write and ns_file_printf keep the first error for ns_file_commit,
 * which frees the handle either way; ns_file_abort drops it. */
struct ns_file;
enum ns_status ns_file_begin(const char *path, struct ns_file **out, char *err, size_t err_len);
void ns_file_write(struct ns_file *f, const void *data, size_t n);
void ns_file_printf(struct ns_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum ns_status ns_file_commit(struct ns_file *f, char *err, size_t err_len);
void ns_file_abort(struct ns_file *f);
/* begin, write, commit */
enum ns_status ns_write_file(const char *path, const void *data, size_t n, char *err, size_t err_len);
/* A file-system error as the end of a sentence ("no space left on the
 * device", "permission denied"...). */
const char *ns_errno_str(int errnum);


/* ---- Fast styles: a feed-forward network trained for one painting ----
 *
 * Johnson et al. 2016's transformation network with Ulyanov et al.'s
 * instance normalisation, as pytorch/examples' fast_neural_style
 * TransformerNet: one forward pass restyles a photo.  A model file is
 * safetensors with the network's tensors under PyTorch's names and
 * __metadata__ saying the architecture ("transformer-net"), the style's
 * name, the painting's thumbnail and where it came from (docs/engine.md). */
struct ns_style_model;
/* Reads and checks a model file; on failure err holds one sentence.  A
 * file whose name ends in .onnx is imported (ns_style_model_import_onnx). */
enum ns_status ns_style_model_load(const char *path, struct ns_style_model **out, char *err, size_t err_len);
/* An ONNX file of a TransformerNet (torch.onnx.export at opset 7 to 21, the
 * ONNX model zoo's fast_neural_style models): any other graph is refused
 * with a sentence naming the first operation that differs.  _mem reads
 * len bytes at data; what names them in messages. */
enum ns_status ns_style_model_import_onnx(const char *path, struct ns_style_model **out, char *err, size_t err_len);
enum ns_status ns_style_model_import_onnx_mem(const void *data, size_t len, const char *what,
                                              struct ns_style_model **out, char *err, size_t err_len);
void ns_style_model_free(struct ns_style_model *m);
/* The model's metadata value for key ("name", "source", "license",
 * "architecture", "training", ...), NULL if none. */
const char *ns_style_model_info(const struct ns_style_model *m, const char *key);
/* The picture of the painting a model carries: metadata "thumbnail", a PNG
 * of at most NS_STYLE_THUMB px a side as a data URI
 * ("data:image/png;base64,...").  Its PNG bytes (malloc'ed, *len of them),
 * or NULL when the model has none or the value is malformed. */
#define NS_STYLE_THUMB 128
unsigned char *ns_style_model_thumbnail(const struct ns_style_model *m, size_t *len);

/* The folders installed styles are kept in, in the order they are looked
 * in: $XDG_DATA_HOME/neural-style/styles (~/.local/share/...), then
 * /usr/local/share/neural-style/styles and /usr/share/neural-style/styles.
 * Fills out (malloc'ed strings, at most max) and returns how many. */
int ns_style_dirs(char **out, int max);
/* The installed style called name (NAME.safetensors in those folders),
 * malloc'ed, or NULL. */
char *ns_style_find(const char *name);
/* What a front end's STYLE names, as a path (malloc'ed): a name with a '/'
 * or that is a file is that file (a missing path is returned for its
 * loader to say so), else the installed style of that name; NULL if none. */
char *ns_style_resolve(const char *name);

/* Styles a model holds: 1, or several trained together with conditional
 * instance norm (Dumoulin et al. 2017; ns_trainer_new_styles). */
int ns_style_model_styles(const struct ns_style_model *m);
/* Style k's name (metadata "style_names", one a line; malloc'ed), or NULL. */
char *ns_style_model_style_name(const struct ns_style_model *m, int k);
/* A one-style model from m: its styles' norm weights blended by mix (n =
 * ns_style_model_styles weights, not negative, not all 0; normalised to
 * sum 1), or m's first style when mix is NULL.  Free with
 * ns_style_model_free. */
enum ns_status ns_style_model_mix(const struct ns_style_model *m, const float *mix, int n,
                                  struct ns_style_model **out);
/* "1,3": one weight per style of m into mix (NS_MAX_STYLES at most);
 * err: a sentence. */
enum ns_status ns_style_mix_parse(const struct ns_style_model *m, const char *spec, float *mix, char *err,
                                  size_t err_len);

struct ns_stylize_params {
    int size;       /* longest side the network sees; 0 = the photo's own */
    /* a model of several styles: their blend, one weight per style
     * (ns_style_model_mix); NULL = its first style */
    const float *mix;
    int n_mix;
    float strength; /* 0..1: the result blended over the photo */
    float brush_size; /* the strokes, times their trained size: the network
                       * sees the photo (at size) this many times smaller
                       * and its result is enlarged back (1; 0.25..8) */
    bool preserve_colors;
    int threads;    /* CPU threads, 0 = all cores */
    double max_memory; /* bytes the run may take, 0 = what the backend has
                        * free less a fifth; a photo whose network does not
                        * fit runs layer by layer in bands, through files in
                        * $TMPDIR, with the same result */
    int band;       /* > 0: in bands of this many rows even when it fits (tests) */
    /* called after each convolution with the share of the work done
     * (0..1); returning false stops the run with NS_STATUS_CANCELLED.
     * NULL = none. */
    bool (*progress)(float done, void *data);
    void *progress_data;
};
struct ns_stylize_params ns_stylize_params_default(void);
/* Restyles content (3 or 4 channels, R'G'B' 0..1) with the model into
 * result, allocated by the caller at the content's size with 3 or 4
 * channels; alpha is the content's.  Any size works, odd ones included. */
enum ns_status ns_stylize(struct ns_context *ctx, const struct ns_style_model *model, const struct ns_image *content,
                          const struct ns_stylize_params *params, struct ns_image *result);

/* Training a fast style (Johnson et al. 2016): the network learns to give,
 * in one pass, what the exact method's objective asks of each photo: the
 * photo as the content target, the painting's Grams, total variation.
 * One step is a batch of photo crops, the objective of each back through
 * VGG and the network, and Adam on every weight with the batch's mean
 * gradient. */
struct ns_train_params {
    int size;            /* the crops' side, px, a multiple of 4 (256) */
    int batch;           /* crops per step (4) */
    float learning_rate; /* Adam's (1e-2: docs/training.md) */
    float content_weight, style_weight, tv_weight; /* the exact objective's weights */
    float style_scale;   /* the painting's longest side = size * style_scale (1, as the exact method's) */
    const char *content_layers, *style_layers; /* NULL = the exact method's defaults */
    uint64_t seed;       /* the network's first weights */
    const char *start;   /* NULL, or a model to start from (its weights,
                            Adam afresh): a style refined on another painting */
    const char *network; /* a new network's architecture: NULL = "transformer-net",
                            "transformer-net-half" (half the channels) */
    int threads;         /* CPU threads, 0 = all cores */
};
struct ns_train_params ns_train_params_default(void);

/* The exact objective's terms, means over the crops given. */
struct ns_train_terms {
    double loss, content, style, tv;
};

struct ns_trainer;
/* A trainer for the painting (3 or 4 channels, any size) with ctx's VGG
 * weights: a new network, or the checkpoint at resume (NULL = none), which
 * must have been written with the same settings.  err: a sentence. */
enum ns_status ns_trainer_new(struct ns_context *ctx, const struct ns_image *painting, const struct ns_train_params *p,
                              const char *resume, struct ns_trainer **out);
/* The same for n paintings learnt together in one network with
 * conditional instance norm (Dumoulin et al. 2017): shared convolutions,
 * each painting's own norm weights.  The steps take the paintings in turn
 * (step s: painting s mod n). */
enum ns_status ns_trainer_new_styles(struct ns_context *ctx, const struct ns_image *paintings, int n,
                                     const struct ns_train_params *p, const char *resume, struct ns_trainer **out);
/* Paintings the trainer learns; painting k's targets and norms for the
 * next ns_trainer_eval (a step sets its own). */
int ns_trainer_styles(const struct ns_trainer *t);
enum ns_status ns_trainer_use_style(struct ns_trainer *t, int k);
/* One step on n crops (each size x size, 3 or 4 channels); terms (may be
 * NULL) are the crops' before the step. */
enum ns_status ns_trainer_step(struct ns_trainer *t, const struct ns_image *crops, int n,
                               struct ns_train_terms *terms);
/* The terms of the network's output on n crops (as_is: of the crops
 * themselves, the yardstick), nothing learnt. */
enum ns_status ns_trainer_eval(struct ns_trainer *t, const struct ns_image *crops, int n, bool as_is,
                               struct ns_train_terms *terms);
/* Steps taken, a resumed run's included. */
int ns_trainer_steps(const struct ns_trainer *t);
/* Writes the model whole or not at all (metadata: name and the rest set by
 * ns_trainer_set_info); a checkpoint also holds Adam's moments and the
 * step, for resume. */
enum ns_status ns_trainer_save(struct ns_trainer *t, const char *path, bool checkpoint);
enum ns_status ns_trainer_set_info(struct ns_trainer *t, const char *key, const char *value);
/* The network now (a copy, free with ns_style_model_free). */
enum ns_status ns_trainer_model(struct ns_trainer *t, struct ns_style_model **out);
/* Bytes a trainer with p takes on ctx's backend (the VGG weights, already
 * there, not counted). */
double ns_train_memory(const struct ns_context *ctx, const struct ns_train_params *p, int painting_w,
                       int painting_h);
/* Floating-point operations of one step. */
double ns_train_flops(const struct ns_context *ctx, const struct ns_train_params *p);
void ns_trainer_free(struct ns_trainer *t);

#ifdef __cplusplus
}
#endif

#endif /* NS_H */

/* context.c - weights + backend, chosen once; status strings; weights lookup.
 *
 * The CUDA backend is a separate shared object (libns-cuda.so) opened with
 * dlopen: the library, the CLI and the plug-in then load and run on any
 * machine, and use a GPU only where its driver and the backend are present.
 */
#include "context.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

const char *ns_status_str(enum ns_status status) {
    switch (status) {
    case NS_STATUS_OK:
        return "success";
    case NS_STATUS_INVALID_ARGUMENT:
        return "invalid argument";
    case NS_STATUS_IO_ERROR:
        return "file cannot be read";
    case NS_STATUS_BAD_WEIGHTS:
        return "weights file is malformed";
    case NS_STATUS_OUT_OF_MEMORY:
        return "not enough memory";
    case NS_STATUS_BACKEND_ERROR:
        return "compute device error";
    case NS_STATUS_UNAVAILABLE:
        return "backend not available";
    case NS_STATUS_NUMERIC_ERROR:
        return "the optimisation diverged (NaN or infinity)";
    case NS_STATUS_CANCELLED:
        return "cancelled";
    }
    return "unknown status";
}

const char *ns_backend_name(enum ns_backend_kind kind) {
    switch (kind) {
    case NS_BACKEND_AUTO:
        return "auto";
    case NS_BACKEND_CPU:
        return "cpu";
    case NS_BACKEND_CUDA:
        return "cuda";
    }
    return "?";
}

enum ns_status ns_set_error(struct ns_context *ctx, enum ns_status st, const char *fmt, ...) {
    if (!ctx) return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
    return st;
}

const char *ns_last_error(const struct ns_context *ctx) {
    return ctx ? ctx->error : "";
}

const char *ns_context_backend(const struct ns_context *ctx) {
    return ctx ? ctx->backend_desc : "";
}

enum ns_backend_kind ns_context_backend_kind(const struct ns_context *ctx) {
    return ctx ? ctx->kind : NS_BACKEND_CPU;
}

void ns_context_backend_info(const struct ns_context *ctx, struct ns_backend_info *info) {
    info->kind = ns_context_backend_kind(ctx);
    info->threads = ctx && ctx->be ? ctx->be->threads : 0;
    info->device = ctx && ctx->be ? ctx->be->device : "";
    info->gpu = ctx ? ctx->gpu : NS_GPU_NOT_ASKED;
    info->detail = ctx ? ctx->gpu_detail : "";
}

enum ns_precision ns_context_precision(const struct ns_context *ctx, enum ns_precision want) {
    if (!ctx || !ctx->be || ctx->kind != NS_BACKEND_CUDA) return NS_PRECISION_FP32;
    return want == NS_PRECISION_BF16 && !ctx->be->bf16 ? NS_PRECISION_FP32 : want;
}

const char *ns_context_layers(const struct ns_context *ctx) {
    return ctx->layers;
}

const char *ns_context_default_content_layers(const struct ns_context *ctx) {
    return ctx->def_content;
}

const char *ns_context_default_style_layers(const struct ns_context *ctx) {
    return ctx->def_style;
}

static char *data_path(const char *base, const char *suffix) {
    size_t n = strlen(base) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s%s", base, suffix);
    return p;
}

char *ns_user_weights_path(void) {
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) return data_path(xdg, "/neural-style/vgg19.safetensors");
    return data_path(home && *home ? home : ".", "/.local/share/neural-style/vgg19.safetensors");
}

int ns_style_dirs(char **out, int max) {
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char *dirs[3] = {xdg && *xdg ? data_path(xdg, "/neural-style/styles")
                                 : data_path(home && *home ? home : ".", "/.local/share/neural-style/styles"),
                     strdup("/usr/local/share/neural-style/styles"), strdup("/usr/share/neural-style/styles")};
    int n = 0;
    for (int i = 0; i < 3; i++)
        if (n < max && dirs[i])
            out[n++] = dirs[i];
        else
            free(dirs[i]);
    return n;
}

char *ns_style_find(const char *name) {
    char *dirs[3], *found = NULL;
    int n = ns_style_dirs(dirs, 3);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(dirs[i]) + strlen(name) + 16;
        char *p = malloc(len);
        if (p && !found) snprintf(p, len, "%s/%s.safetensors", dirs[i], name);
        if (p && !found && access(p, R_OK) == 0)
            found = p;
        else
            free(p);
        free(dirs[i]);
    }
    return found;
}

char *ns_style_resolve(const char *name) {
    if (strchr(name, '/') || access(name, F_OK) == 0) return strdup(name);
    return ns_style_find(name);
}

char *ns_find_weights(void) {
    const char *env = getenv("NS_WEIGHTS");
    if (env && *env) return access(env, R_OK) == 0 ? strdup(env) : NULL;
    char *cands[3] = {ns_user_weights_path(), strdup("/usr/local/share/neural-style/vgg19.safetensors"),
                      strdup("/usr/share/neural-style/vgg19.safetensors")};
    char *found = NULL;
    for (int i = 0; i < 3; i++) {
        if (!found && cands[i] && access(cands[i], R_OK) == 0)
            found = cands[i];
        else
            free(cands[i]);
    }
    return found;
}

/* Opens libns-cuda.so: $NS_CUDA_LIBRARY, beside this library or program,
 * then the loader's search path. */
static enum ns_status open_cuda(struct ns_context *ctx, int gpu, struct ns_backend **be, char *why,
                                size_t wlen) {
    const char *env = getenv("NS_CUDA_LIBRARY");
    char beside[4096] = "";
    Dl_info info;
    if (dladdr((void *) ns_context_new, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        if (slash)
            snprintf(beside, sizeof beside, "%.*s/libns-cuda.so", (int) (slash - info.dli_fname),
                     info.dli_fname);
    }
    const char *cands[] = {env, beside[0] ? beside : NULL, "libns-cuda.so"};
    char last[512] = "libns-cuda.so was not built or installed";
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        if (!cands[i] || !*cands[i]) continue;
        if (i == 1 && access(cands[i], F_OK) != 0) continue;
        /* never unloaded: the CUDA runtime inside keeps exit handlers */
        void *dl = dlopen(cands[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!dl) {
            snprintf(last, sizeof last, "%s", dlerror());
            continue;
        }
        /* a module from another build of neural-style would read our
         * structs wrongly: its version first, before anything is called */
        ns_backend_version_fn version = (ns_backend_version_fn) dlsym(dl, NS_BACKEND_VERSION_SYMBOL);
        int v = version ? version() : 1;
        if (v != NS_BACKEND_API_VERSION) { /* said, not skipped: a stale copy is what to fix */
            snprintf(why, wlen,
                     "%s is from another version of neural-style (backend API %d, this one needs %d): "
                     "run ./install.sh again to replace it",
                     cands[i], v, NS_BACKEND_API_VERSION);
            dlclose(dl);
            ctx->gpu = NS_GPU_NOT_INSTALLED;
            return NS_STATUS_UNAVAILABLE;
        }
        ns_backend_new_fn fn = (ns_backend_new_fn) dlsym(dl, NS_BACKEND_CUDA_SYMBOL);
        if (!fn) {
            snprintf(last, sizeof last, "%s has no %s", cands[i], NS_BACKEND_CUDA_SYMBOL);
            dlclose(dl);
            continue;
        }
        char err[512] = "";
        enum ns_status st = fn(gpu, be, err, sizeof err);
        if (st == NS_STATUS_OK) {
            ctx->dl = dl;
            return NS_STATUS_OK;
        }
        snprintf(why, wlen, "%s", err[0] ? err : ns_status_str(st));
        ctx->gpu = st == NS_STATUS_UNAVAILABLE ? NS_GPU_ABSENT : NS_GPU_FAILED;
        dlclose(dl);
        return st;
    }
    snprintf(why, wlen, "%s", last);
    ctx->gpu = NS_GPU_NOT_INSTALLED;
    return NS_STATUS_UNAVAILABLE;
}

static void close_backend(struct ns_context *ctx) {
    ns_model_release(&ctx->model);
    if (ctx->be) ctx->be->ops->free(ctx->be);
    ctx->be = NULL;
    if (ctx->dl) dlclose(ctx->dl);
    ctx->dl = NULL;
}

static void describe_backend(struct ns_context *ctx) {
    const char *why = ctx->backend_why;
    snprintf(ctx->backend_desc, sizeof ctx->backend_desc, "%s%s%s", ctx->be->description, *why ? "; " : "", why);
}

enum ns_status ns_context_use_cpu(struct ns_context *ctx, enum ns_gpu_state gpu, const char *why,
                                  const char *detail) {
    close_backend(ctx);
    ctx->kind = NS_BACKEND_CPU;
    ctx->gpu = gpu;
    snprintf(ctx->gpu_detail, sizeof ctx->gpu_detail, "%s", detail ? detail : "");
    if (!ctx->weights.n_layers && ctx->weights_path[0])
        return ns_set_error(ctx, NS_STATUS_INVALID_ARGUMENT, "the weights are gone");
    enum ns_status st = ns_backend_cpu_new(0, &ctx->be);
    if (!st && ctx->weights.n_layers) st = ns_model_init(&ctx->model, ctx->be, &ctx->weights);
    if (st == NS_STATUS_OUT_OF_MEMORY && ns_address_room() != SIZE_MAX)
        return ns_set_error(ctx, st,
                            "not enough memory to start: this process may take only %.0f MB more (ulimit -v), "
                            "and the CPU needs about %.0f MB for one thread; raise the limit",
                            ns_address_room() / 1e6, (NS_CPU_THREAD_BYTES + NS_CPU_RESERVE_BYTES) / 1e6);
    if (st) return ns_set_error(ctx, st, "cannot start the CPU backend: %s", ns_status_str(st));
    snprintf(ctx->backend_why, sizeof ctx->backend_why, "%s", why ? why : "");
    describe_backend(ctx);
    return NS_STATUS_OK;
}

int ns_threads_usable(int requested) {
    int cores = ns_cpu_cores();
    return requested <= 0 || requested > cores ? cores : requested;
}

size_t ns_context_memory_free(const struct ns_context *ctx) {
    return ctx && ctx->be ? ctx->be->ops->mem_free(ctx->be) : 0;
}

enum ns_status ns_context_set_threads(struct ns_context *ctx, int threads, int *used) {
    if (!ctx || !ctx->be) return NS_STATUS_INVALID_ARGUMENT;
    int n = ns_threads_usable(threads);
    enum ns_status st = ctx->be->ops->set_threads(ctx->be, n);
    if (st) return ns_set_error(ctx, st, "cannot set up %d threads: %s", n, ns_status_str(st));
    describe_backend(ctx);
    if (used) *used = ctx->kind == NS_BACKEND_CPU ? ctx->be->threads : 0;
    return NS_STATUS_OK;
}

static enum ns_status open_device(struct ns_context *ctx, enum ns_backend_kind backend, int gpu_index);

enum ns_status ns_context_new_ex(const char *weights_path, enum ns_backend_kind backend, int gpu_index,
                                 struct ns_context **out) {
    struct ns_context *ctx = calloc(1, sizeof *ctx);
    *out = ctx;
    if (!ctx) return NS_STATUS_OUT_OF_MEMORY;
    ctx->requested = backend;
    char *found = weights_path ? strdup(weights_path) : ns_find_weights();
    const char *env = getenv("NS_WEIGHTS");
    if (!found && env && *env)
        return ns_set_error(
            ctx, NS_STATUS_IO_ERROR,
            "no VGG-19 weights found: NS_WEIGHTS is set to '%s', which cannot be read. Unset it to "
            "use the installed weights, or point it to a .safetensors file (./install.sh installs "
            "them).",
            env);
    if (!found) {
        char *user = ns_user_weights_path();
        enum ns_status st = ns_set_error(
            ctx, NS_STATUS_IO_ERROR,
            "no VGG-19 weights found. Run ./install.sh from the neural-style source folder (it downloads and "
            "checks them), or install a file with './install.sh --weights FILE', or set NS_WEIGHTS to a "
            ".safetensors file. Looked for $NS_WEIGHTS, %s, /usr/local/share/neural-style/vgg19.safetensors "
            "and /usr/share/neural-style/vgg19.safetensors.",
            user ? user : "~/.local/share/neural-style/vgg19.safetensors");
        free(user);
        return st;
    }
    snprintf(ctx->weights_path, sizeof ctx->weights_path, "%s", found);
    free(found);
    char err[512];
    enum ns_status st = ns_weights_load(ctx->weights_path, &ctx->weights, err, sizeof err);
    if (st) return ns_set_error(ctx, st, "%s", err);

    struct ns_model layout;
    ns_model_layout(&layout, ctx->weights.arch, ctx->weights.n_layers);
    for (int l = 0; l < layout.n_layers; l++) {
        size_t len = strlen(ctx->layers);
        snprintf(ctx->layers + len, sizeof ctx->layers - len, "%s%s", l ? "," : "", layout.name[l]);
    }
    ns_layers_default(&layout, ctx->def_content, sizeof ctx->def_content, ctx->def_style,
                      sizeof ctx->def_style);
    return open_device(ctx, backend, gpu_index);
}

/* ctx's backend: the GPU, the CPU, or auto's choice; the VGG weights, when
 * loaded, onto it. */
static enum ns_status open_device(struct ns_context *ctx, enum ns_backend_kind backend, int gpu_index) {
    enum ns_status st;
    char why[600] = "";
    /* CUDA maps hundreds of MB of libraries and reserves address space for
     * the device: under `ulimit -v` auto mode leaves the CPU its room */
    if (backend == NS_BACKEND_AUTO && ns_address_room() != SIZE_MAX) {
        snprintf(why, sizeof why, "the address space is limited (ulimit -v), and CUDA needs it unlimited");
        snprintf(ctx->gpu_detail, sizeof ctx->gpu_detail, "%s", why);
        char note[700];
        snprintf(note, sizeof note, "auto mode: no usable GPU (%s)", why);
        return ns_context_use_cpu(ctx, NS_GPU_FAILED, note, why);
    }
    if (backend != NS_BACKEND_CPU) {
        st = open_cuda(ctx, gpu_index, &ctx->be, why, sizeof why);
        if (!st) {
            ctx->kind = NS_BACKEND_CUDA;
            st = ctx->weights.n_layers ? ns_model_init(&ctx->model, ctx->be, &ctx->weights) : NS_STATUS_OK;
            if (st) {
                snprintf(why, sizeof why, "cannot load the weights onto the GPU (%s)", ns_status_str(st));
                ctx->gpu = st == NS_STATUS_OUT_OF_MEMORY ? NS_GPU_OUT_OF_MEMORY : NS_GPU_FAILED;
                close_backend(ctx);
            } else {
                ctx->backend_why[0] = '\0';
                describe_backend(ctx);
                ctx->gpu = NS_GPU_USED;
                return NS_STATUS_OK;
            }
        }
        snprintf(ctx->gpu_detail, sizeof ctx->gpu_detail, "%s", why);
        if (backend == NS_BACKEND_CUDA)
            return ns_set_error(ctx, st ? st : NS_STATUS_UNAVAILABLE, "the CUDA backend is not usable: %s",
                                why);
        char note[700];
        snprintf(note, sizeof note, "auto mode: no usable GPU (%s)", why);
        return ns_context_use_cpu(ctx, ctx->gpu, note, why);
    }
    return ns_context_use_cpu(ctx, NS_GPU_NOT_ASKED, NULL, NULL);
}

enum ns_status ns_context_new_device(enum ns_backend_kind backend, int gpu_index, struct ns_context **out) {
    struct ns_context *ctx = calloc(1, sizeof *ctx);
    *out = ctx;
    if (!ctx) return NS_STATUS_OUT_OF_MEMORY;
    ctx->requested = backend;
    return open_device(ctx, backend, gpu_index);
}

enum ns_status ns_context_new(const char *weights_path, enum ns_backend_kind backend,
                              struct ns_context **ctx) {
    return ns_context_new_ex(weights_path, backend, 0, ctx);
}

void ns_context_free(struct ns_context *ctx) {
    if (!ctx) return;
    close_backend(ctx);
    ns_weights_free(&ctx->weights);
    free(ctx);
}

/* context.h - struct ns_context (private). */
#ifndef NS_CONTEXT_H
#define NS_CONTEXT_H

#include "objective.h"

/* A sample of the CPU time spent on the machine and by this process. */
struct ns_cpu_sample {
    double wall; /* monotonic seconds */
    double busy; /* every CPU's non-idle seconds since boot (/proc/stat); < 0 = unknown */
    double own;  /* this process's CPU seconds */
};

struct ns_context {
    enum ns_backend_kind requested;
    enum ns_backend_kind kind; /* in use: CPU or CUDA */
    struct ns_backend *be;
    void *dl;                  /* libns-cuda.so */
    struct ns_weights weights; /* host copy: lets auto mode fall back to the CPU */
    struct ns_model model;
    char weights_path[4096];
    char layers[256];
    char def_content[32];
    char def_style[128];
    char backend_desc[900];    /* be->description, then backend_why */
    char backend_why[700];
    enum ns_gpu_state gpu;
    char gpu_detail[700];
    char error[1024];
    struct ns_cpu_sample load_at; /* ns_context_slowdown's last sample */
    double last_slowdown;         /* the last ns_run's (ns_context_last_slowdown) */
};

enum ns_status ns_set_error(struct ns_context *ctx, enum ns_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replaces the backend by the CPU one: gpu and detail say why (for
 * ns_context_backend_info), and why is appended to the description. */
enum ns_status ns_context_use_cpu(struct ns_context *ctx, enum ns_gpu_state gpu, const char *why,
                                  const char *detail);

/* The threads a run gets for `requested` (0 = all cores): at most the cores
 * this process may use, since more only add column buffers and switches. */
int ns_threads_usable(int requested);

/* params.init NS_INIT_MODEL: content resized to w x h through the fast
 * style p->init_model, into out (malloc'ed, w x h, 3 channels), for the run
 * to start from (warm_start.c). */
enum ns_status ns_warm_start(struct ns_context *ctx, const struct ns_params *p, const struct ns_image *content,
                             int w, int h, struct ns_image *out);

#endif /* NS_CONTEXT_H */

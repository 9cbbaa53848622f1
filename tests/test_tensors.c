/* test_tensors.c - the engine's side of narrower GPU tensors, on the CPU.
 *
 * A backend may store network tensors (alloc_tensor) in bfloat16 and may
 * compute the backward convolution itself (conv3x3_bwd), as the CUDA backend
 * does.  This test wraps the CPU backend in one that offers both and checks
 * every op's arguments: tensors where the op takes tensors, float32 vectors
 * where it takes vectors.  A mix-up would read garbage on the GPU; here it
 * fails a check.  The results must be the same bytes as the plain CPU's.
 */
#include "context.h"
#include "net.h"
#include "testlib.h"

#include <unistd.h>

static const struct ns_backend_ops *cpu_ops;
static struct ns_backend_ops typed;

enum kind { UNKNOWN, VECTOR, TENSOR };
static struct {
    const float *p;
    size_t n;
    enum kind kind;
} bufs[4096];
static size_t n_tensor_allocs;

static enum kind kind_of(const float *p) {
    for (int i = 0; i < 4096; i++)
        if (bufs[i].p && p >= bufs[i].p && p < bufs[i].p + bufs[i].n) return bufs[i].kind;
    return UNKNOWN;
}

static float *track(float *p, size_t n, enum kind k) {
    for (int i = 0; p && i < 4096; i++)
        if (!bufs[i].p) {
            bufs[i].p = p, bufs[i].n = n ? n : 1, bufs[i].kind = k;
            break;
        }
    return p;
}

static float *t_alloc(struct ns_backend *be, size_t n) {
    return track(cpu_ops->alloc(be, n), n, VECTOR);
}

static float *t_alloc_tensor(struct ns_backend *be, size_t n) {
    n_tensor_allocs++;
    return track(cpu_ops->alloc(be, n), n, TENSOR);
}

static void t_release(struct ns_backend *be, float *p) {
    for (int i = 0; i < 4096; i++)
        if (bufs[i].p == p) bufs[i].p = NULL;
    cpu_ops->release(be, p);
}

#define EXPECT(op, p, k) CHECK(!(p) || kind_of(p) == (k), "%s: %s should be a %s", op, #p, (k) == TENSOR ? "tensor" : "vector")

static void t_input_fwd(struct ns_backend *be, const float *u, float *x, size_t hw, const float a[3],
                        const float b[3], const int perm[3]) {
    EXPECT("input_fwd", u, VECTOR);
    EXPECT("input_fwd", x, VECTOR); /* the image stays float32 */
    cpu_ops->input_fwd(be, u, x, hw, a, b, perm);
}

static void t_input_bwd(struct ns_backend *be, const float *gx, float *gu, size_t hw, const float a[3],
                        const int perm[3]) {
    EXPECT("input_bwd", gx, TENSOR);
    EXPECT("input_bwd", gu, VECTOR);
    cpu_ops->input_bwd(be, gx, gu, hw, a, perm);
}

static void t_conv3x3(struct ns_backend *be, const float *in, int cin, int h, int w, const float *wt,
                      const float *bias, int cout, float *out, bool relu) {
    CHECK(kind_of(in) == TENSOR || (cin == 3 && kind_of(in) == VECTOR), "conv3x3: input of %d channels is a %s",
          cin, kind_of(in) == TENSOR ? "tensor" : "vector");
    EXPECT("conv3x3", wt, VECTOR);
    EXPECT("conv3x3", bias, VECTOR);
    EXPECT("conv3x3", out, TENSOR);
    cpu_ops->conv3x3(be, in, cin, h, w, wt, bias, cout, out, relu);
}

/* The backward convolution from the forward weights, flipped here. */
static void t_conv3x3_bwd(struct ns_backend *be, const float *gout, int cout, int h, int w, const float *wt,
                          int cin, float *gin) {
    EXPECT("conv3x3_bwd", gout, TENSOR);
    EXPECT("conv3x3_bwd", wt, VECTOR);
    EXPECT("conv3x3_bwd", gin, TENSOR);
    float *rot = falloc((size_t) cout * cin * 9);
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int k = 0; k < 9; k++)
                rot[((size_t) ci * cout + co) * 9 + (8 - k)] = wt[((size_t) co * cin + ci) * 9 + k];
    cpu_ops->conv3x3(be, gout, cout, h, w, rot, NULL, cin, gin, false);
    free(rot);
}

static void t_relu_bwd(struct ns_backend *be, float *g, const float *y, size_t n) {
    EXPECT("relu_bwd", g, TENSOR);
    EXPECT("relu_bwd", y, TENSOR);
    cpu_ops->relu_bwd(be, g, y, n);
}

static void t_pool_fwd(struct ns_backend *be, enum ns_pool_mode mode, const float *in, int c, int h, int w,
                       float *out) {
    EXPECT("pool_fwd", in, TENSOR);
    EXPECT("pool_fwd", out, TENSOR);
    cpu_ops->pool_fwd(be, mode, in, c, h, w, out);
}

static void t_pool_bwd(struct ns_backend *be, enum ns_pool_mode mode, const float *in, const float *gout, int c,
                       int h, int w, float *gin) {
    EXPECT("pool_bwd", in, TENSOR);
    EXPECT("pool_bwd", gout, TENSOR);
    EXPECT("pool_bwd", gin, TENSOR);
    cpu_ops->pool_bwd(be, mode, in, gout, c, h, w, gin);
}

static void t_gram(struct ns_backend *be, const float *f, int c, size_t m, float *g) {
    EXPECT("gram", f, TENSOR);
    EXPECT("gram", g, VECTOR);
    cpu_ops->gram(be, f, c, m, g);
}

static void t_content_loss(struct ns_backend *be, const float *f, const float *p, size_t n, float coef,
                           float *grad, int slot) {
    EXPECT("content_loss", f, TENSOR);
    EXPECT("content_loss", p, TENSOR);
    EXPECT("content_loss", grad, TENSOR);
    cpu_ops->content_loss(be, f, p, n, coef, grad, slot);
}

static void t_style_loss(struct ns_backend *be, const float *f, int c, size_t m, const float *t, float coef,
                         float *scratch, float *grad, int slot) {
    EXPECT("style_loss", f, TENSOR);
    EXPECT("style_loss", t, VECTOR);
    EXPECT("style_loss", scratch, VECTOR);
    EXPECT("style_loss", grad, TENSOR);
    cpu_ops->style_loss(be, f, c, m, t, coef, scratch, grad, slot);
}

static void t_tv_loss(struct ns_backend *be, const float *u, int c, int h, int w, float coef, float *grad,
                      int slot) {
    EXPECT("tv_loss", u, VECTOR);
    EXPECT("tv_loss", grad, VECTOR);
    cpu_ops->tv_loss(be, u, c, h, w, coef, grad, slot);
}

static void t_fill(struct ns_backend *be, float *x, float v, size_t n) {
    CHECK(kind_of(x) != UNKNOWN, "fill: an unknown buffer");
    cpu_ops->fill(be, x, v, n);
}

static void t_copy(struct ns_backend *be, float *dst, const float *src, size_t n) {
    CHECK(kind_of(dst) == kind_of(src) && kind_of(dst) != UNKNOWN, "copy between a tensor and a vector");
    cpu_ops->copy(be, dst, src, n);
}

static void t_axpby(struct ns_backend *be, float alpha, const float *x, float beta, float *y, size_t n) {
    EXPECT("axpby", x, VECTOR);
    EXPECT("axpby", y, VECTOR);
    cpu_ops->axpby(be, alpha, x, beta, y, n);
}

static void t_dots(struct ns_backend *be, const float *mat, int k, size_t ld, const float *x, size_t n, int slot0) {
    CHECK(kind_of(mat) == kind_of(x) && kind_of(x) != UNKNOWN, "dots between a tensor and a vector");
    cpu_ops->dots(be, mat, k, ld, x, n, slot0);
}

static void t_lincomb(struct ns_backend *be, float *y, float alpha, const float *x, const float *mat, int k,
                      size_t ld, const double *coef, size_t n) {
    EXPECT("lincomb", y, VECTOR);
    EXPECT("lincomb", x, VECTOR);
    EXPECT("lincomb", mat, VECTOR);
    cpu_ops->lincomb(be, y, alpha, x, mat, k, ld, coef, n);
}

static void t_adam(struct ns_backend *be, float *x, const float *g, float *m, float *v, size_t n, float lr,
                   float beta1, float beta2, float eps, int t) {
    EXPECT("adam", x, VECTOR);
    EXPECT("adam", g, VECTOR);
    EXPECT("adam", m, VECTOR);
    EXPECT("adam", v, VECTOR);
    cpu_ops->adam(be, x, g, m, v, n, lr, beta1, beta2, eps, t);
}

static struct ns_image image(int w, int h, int seed) {
    struct ns_image im = {falloc((size_t) 3 * w * h), w, h, 3, 3 * w};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                im.data[((size_t) y * w + x) * 3 + c] =
                    (float) (0.5 + 0.4 * sin(0.13 * x * (c + 1) + seed) * cos(0.09 * y + 2.0 * seed));
    return im;
}

static void run_both(const char *weights, enum ns_optimizer opt) {
    struct ns_context *plain = NULL, *ctx = NULL;
    memset(bufs, 0, sizeof bufs);
    CHECK(ns_context_new(weights, NS_BACKEND_CPU, &plain) == NS_STATUS_OK, "context");
    CHECK(ns_context_new(weights, NS_BACKEND_CPU, &ctx) == NS_STATUS_OK, "context");
    if (failures) return;
    /* the typed backend, with the model uploaded again through it (no flipped copies) */
    ns_model_release(&ctx->model);
    cpu_ops = ctx->be->ops;
    typed = *cpu_ops;
    typed.alloc = t_alloc;
    typed.alloc_tensor = t_alloc_tensor;
    typed.release = t_release;
    typed.input_fwd = t_input_fwd;
    typed.input_bwd = t_input_bwd;
    typed.conv3x3 = t_conv3x3;
    typed.conv3x3_bwd = t_conv3x3_bwd;
    typed.relu_bwd = t_relu_bwd;
    typed.pool_fwd = t_pool_fwd;
    typed.pool_bwd = t_pool_bwd;
    typed.gram = t_gram;
    typed.content_loss = t_content_loss;
    typed.style_loss = t_style_loss;
    typed.tv_loss = t_tv_loss;
    typed.fill = t_fill;
    typed.copy = t_copy;
    typed.axpby = t_axpby;
    typed.dots = t_dots;
    typed.lincomb = t_lincomb;
    typed.adam = t_adam;
    ctx->be->ops = &typed;
    CHECK(ns_model_init(&ctx->model, ctx->be, &ctx->weights) == NS_STATUS_OK, "model through the typed backend");
    CHECK(ctx->model.wt_rot[0] == NULL, "a backend with conv3x3_bwd got flipped weights");

    struct ns_image content = image(72, 56, 0), style = image(64, 64, 3);
    struct ns_params p = ns_params_default();
    p.size = 0;
    p.iterations = 6;
    p.scales = 2; /* the coarse-to-fine path too */
    p.optimizer = opt;
    p.precision = NS_PRECISION_BF16;
    p.style_layers = "relu1_1,relu2_1,relu3_1"; /* relu1_1: a loss on the first layer's tensor */
    p.content_layers = "relu2_2";
    struct ns_image a = {falloc((size_t) 3 * 72 * 56), 72, 56, 3, 3 * 72}, b = a;
    b.data = falloc((size_t) 3 * 72 * 56);
    n_tensor_allocs = 0;
    CHECK(ns_run(plain, &content, &style, 1, &p, NULL, NULL, &a) == NS_STATUS_OK, "plain run: %s",
          ns_last_error(plain));
    CHECK(ns_run(ctx, &content, &style, 1, &p, NULL, NULL, &b) == NS_STATUS_OK, "typed run: %s",
          ns_last_error(ctx));
    CHECK(n_tensor_allocs > 0, "the engine allocated no tensors through alloc_tensor");
    CHECK(memcmp(a.data, b.data, sizeof(float) * 3 * 72 * 56) == 0,
          "%s: the backward convolution from forward weights changed the result",
          opt == NS_OPTIMIZER_ADAM ? "Adam" : "L-BFGS");
    /* the estimate knows the backend keeps no flipped weights */
    size_t with = ns_estimate_memory(plain, &p, 72, 56, 64, 64), without = ns_estimate_memory(ctx, &p, 72, 56, 64, 64);
    CHECK(without < with, "estimate with conv3x3_bwd %zu, without %zu", without, with);
    ctx->be->ops = cpu_ops;
    ns_context_free(ctx);
    ns_context_free(plain);
    free(a.data), free(b.data), free(content.data), free(style.data);
}

int main(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/ns-test-tensors-%d.safetensors", (int) getpid());
    struct ns_weights w;
    random_weights(&w, 19, 8);
    CHECK(write_safetensors(path, &w, NULL), "cannot write %s", path);
    ns_weights_free(&w);
    run_both(path, NS_OPTIMIZER_LBFGS);
    run_both(path, NS_OPTIMIZER_ADAM);
    unlink(path);
    return test_summary("test_tensors");
}

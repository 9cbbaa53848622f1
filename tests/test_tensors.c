/* test_tensors.c - the engine's side of narrower GPU tensors, on the CPU.
 *
 * A backend may store network tensors in bfloat16 (be->tensor_dtype) and may
 * compute the backward convolution itself (conv3x3_bwd), as the CUDA backend
 * does.  This test wraps the CPU backend in one that offers both: its
 * tensors are CPU floats labelled NS_DTYPE_BF16, and every op checks its
 * operands' labels: tensors where the op takes tensors, float32 vectors
 * where it takes vectors.  A mix-up would read garbage on the GPU; here it
 * fails a check.  The results must be the same bytes as the plain CPU's.
 */
#include "context.h"
#include "net.h"
#include "testlib.h"

#include <unistd.h>

static const struct ns_backend_ops *cpu_ops;
static struct ns_backend_ops typed;
static size_t n_tensor_allocs;

#define T NS_DTYPE_BF16
#define F NS_DTYPE_F32

/* CPU floats, labelled with the type asked for. */
static struct ns_buf *t_alloc(struct ns_backend *be, size_t n, enum ns_dtype dtype) {
    struct ns_buf *b = cpu_ops->alloc(be, n, NS_DTYPE_F32);
    if (b) b->dtype = dtype;
    n_tensor_allocs += b && dtype == T;
    return b;
}

static enum ns_status t_set_precision(struct ns_backend *be, enum ns_precision precision) {
    be->tensor_dtype = precision == NS_PRECISION_BF16 ? T : F;
    return NS_STATUS_OK;
}

#define EXPECT(op, b, dt)                                                                                    \
    CHECK(!(b) || (b)->dtype == (dt), "%s: %s should be a %s", op, #b, (dt) == T ? "tensor" : "vector")

static void t_input_fwd(struct ns_backend *be, const struct ns_buf *u, struct ns_buf *x, size_t hw,
                        const float a[3], const float b[3], const int perm[3]) {
    EXPECT("input_fwd", u, F);
    EXPECT("input_fwd", x, F); /* the image stays float32 */
    cpu_ops->input_fwd(be, u, x, hw, a, b, perm);
}

static void t_input_bwd(struct ns_backend *be, const struct ns_buf *gx, struct ns_buf *gu, size_t hw,
                        const float a[3], const int perm[3]) {
    EXPECT("input_bwd", gx, T);
    EXPECT("input_bwd", gu, F);
    cpu_ops->input_bwd(be, gx, gu, hw, a, perm);
}

static void t_conv3x3(struct ns_backend *be, const struct ns_buf *in, int cin, int h, int w,
                      const struct ns_buf *wt, const struct ns_buf *bias, int cout, struct ns_buf *out,
                      bool relu) {
    CHECK(in->dtype == T || (cin == 3 && in->dtype == F), "conv3x3: input of %d channels is a %s", cin,
          in->dtype == T ? "tensor" : "vector");
    EXPECT("conv3x3", wt, F);
    EXPECT("conv3x3", bias, F);
    EXPECT("conv3x3", out, T);
    cpu_ops->conv3x3(be, in, cin, h, w, wt, bias, cout, out, relu);
}

/* The backward convolution from the forward weights, flipped here. */
static void t_conv3x3_bwd(struct ns_backend *be, const struct ns_buf *gout, int cout, int h, int w,
                          const struct ns_buf *wt, int cin, struct ns_buf *gin) {
    EXPECT("conv3x3_bwd", gout, T);
    EXPECT("conv3x3_bwd", wt, F);
    EXPECT("conv3x3_bwd", gin, T);
    const float *wf = wt->data;
    float *rot = falloc((size_t) cout * cin * 9);
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int k = 0; k < 9; k++)
                rot[((size_t) ci * cout + co) * 9 + (8 - k)] = wf[((size_t) co * cin + ci) * 9 + k];
    cpu_ops->conv3x3(be, gout, cout, h, w, V(rot), NULL, cin, gin, false);
    free(rot);
}

static void t_relu_bwd(struct ns_backend *be, struct ns_buf *g, const struct ns_buf *y, size_t n) {
    EXPECT("relu_bwd", g, T);
    EXPECT("relu_bwd", y, T);
    cpu_ops->relu_bwd(be, g, y, n);
}

static void t_pool_fwd(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in, int c, int h,
                       int w, struct ns_buf *out) {
    EXPECT("pool_fwd", in, T);
    EXPECT("pool_fwd", out, T);
    cpu_ops->pool_fwd(be, mode, in, c, h, w, out);
}

static void t_pool_bwd(struct ns_backend *be, enum ns_pool_mode mode, const struct ns_buf *in,
                       const struct ns_buf *gout, int c, int h, int w, struct ns_buf *gin) {
    EXPECT("pool_bwd", in, T);
    EXPECT("pool_bwd", gout, T);
    EXPECT("pool_bwd", gin, T);
    cpu_ops->pool_bwd(be, mode, in, gout, c, h, w, gin);
}

static void t_gram(struct ns_backend *be, const struct ns_buf *f, int c, size_t m, struct ns_buf *g) {
    EXPECT("gram", f, T);
    EXPECT("gram", g, F);
    cpu_ops->gram(be, f, c, m, g);
}

static void t_content_loss(struct ns_backend *be, const struct ns_buf *f, const struct ns_buf *p, size_t n,
                           float coef, struct ns_buf *grad, int slot) {
    EXPECT("content_loss", f, T);
    EXPECT("content_loss", p, T);
    EXPECT("content_loss", grad, T);
    cpu_ops->content_loss(be, f, p, n, coef, grad, slot);
}

static void t_style_loss(struct ns_backend *be, const struct ns_buf *f, int c, size_t m,
                         const struct ns_buf *t, float coef, struct ns_buf *scratch, struct ns_buf *grad,
                         int slot) {
    EXPECT("style_loss", f, T);
    EXPECT("style_loss", t, F);
    EXPECT("style_loss", scratch, F);
    EXPECT("style_loss", grad, T);
    cpu_ops->style_loss(be, f, c, m, t, coef, scratch, grad, slot);
}

static void t_tv_loss(struct ns_backend *be, const struct ns_buf *u, int c, int h, int w, float coef,
                      struct ns_buf *grad, int slot) {
    EXPECT("tv_loss", u, F);
    EXPECT("tv_loss", grad, F);
    cpu_ops->tv_loss(be, u, c, h, w, coef, grad, slot);
}

static void t_copy(struct ns_backend *be, struct ns_buf *dst, const struct ns_buf *src, size_t n) {
    CHECK(dst->dtype == src->dtype, "copy between a tensor and a vector");
    cpu_ops->copy(be, dst, src, n);
}

static void t_axpby(struct ns_backend *be, float alpha, const struct ns_buf *x, float beta, struct ns_buf *y,
                    size_t n) {
    EXPECT("axpby", x, F);
    EXPECT("axpby", y, F);
    cpu_ops->axpby(be, alpha, x, beta, y, n);
}

static void t_dots(struct ns_backend *be, const struct ns_buf *const *v, int k, const struct ns_buf *x,
                   size_t n, int slot0) {
    for (int j = 0; j < k; j++)
        CHECK(v[j]->dtype == x->dtype, "dots between a tensor and a vector");
    cpu_ops->dots(be, v, k, x, n, slot0);
}

static void t_lincomb(struct ns_backend *be, struct ns_buf *y, float alpha, const struct ns_buf *x,
                      const struct ns_buf *const *v, int k, const double *coef, size_t n) {
    EXPECT("lincomb", y, F);
    EXPECT("lincomb", x, F);
    for (int j = 0; j < k; j++)
        EXPECT("lincomb", v[j], F);
    cpu_ops->lincomb(be, y, alpha, x, v, k, coef, n);
}

static void t_adam(struct ns_backend *be, struct ns_buf *x, const struct ns_buf *g, struct ns_buf *m,
                   struct ns_buf *v, size_t n, float lr, float beta1, float beta2, float eps, int t) {
    EXPECT("adam", x, F);
    EXPECT("adam", g, F);
    EXPECT("adam", m, F);
    EXPECT("adam", v, F);
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
    CHECK(ns_context_new(weights, NS_BACKEND_CPU, &plain) == NS_STATUS_OK, "context");
    CHECK(ns_context_new(weights, NS_BACKEND_CPU, &ctx) == NS_STATUS_OK, "context");
    if (failures) return;
    /* the typed backend, with the model uploaded again through it (no flipped copies) */
    ns_model_release(&ctx->model);
    cpu_ops = ctx->be->ops;
    typed = *cpu_ops;
    typed.alloc = t_alloc;
    typed.set_precision = t_set_precision;
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
    typed.copy = t_copy;
    typed.axpby = t_axpby;
    typed.dots = t_dots;
    typed.lincomb = t_lincomb;
    typed.adam = t_adam;
    ctx->be->ops = &typed;
    ctx->be->bf16 = true;
    CHECK(ns_model_init(&ctx->model, ctx->be, &ctx->weights) == NS_STATUS_OK,
          "model through the typed backend");
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
    CHECK(n_tensor_allocs > 0, "the engine allocated no bfloat16 tensors");
    CHECK(memcmp(a.data, b.data, sizeof(float) * 3 * 72 * 56) == 0,
          "%s: the backward convolution from forward weights changed the result",
          opt == NS_OPTIMIZER_ADAM ? "Adam" : "L-BFGS");
    /* the estimate knows the backend keeps no flipped weights (tensors counted as float32 in both) */
    ctx->be->bf16 = false;
    size_t with = ns_estimate_memory(plain, &p, 72, 56, 64, 64),
           without = ns_estimate_memory(ctx, &p, 72, 56, 64, 64);
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

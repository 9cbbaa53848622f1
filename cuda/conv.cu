/* conv.cu - convolutions through cuDNN: VGG's 3x3, forward and backward to
 * the input, and the fast styles' k x k at a stride.
 *
 * A shape's algorithm is cuDNN's heuristic pick on its first call; the second
 * call times the algorithms on the real buffers (cudnnFind...Ex) and keeps
 * the fastest deterministic one that fits the workspace for all later calls.
 * In float32 mode only FMA algorithms are accepted, so that tensor cores
 * never round the inputs to TF32 unasked.  In bf16 mode tensors and weights
 * are bfloat16 (weights converted once) and cuDNN accumulates in float32.
 */
#include "cuda_backend.h"

static const float one = 1.0f, zero = 0.0f;

/* Every call gets the whole workspace (NSC_WORKSPACE): an algorithm's need
 * under the math type finally set may differ from the one it was timed with. */

void nsc_plans_free(struct nsc_backend *b) {
    for (int i = 0; i < b->n_plans; i++) {
        struct nsc_plan *p = &b->plans[i];
        if (p->x) cudnnDestroyTensorDescriptor(p->x);
        if (p->y) cudnnDestroyTensorDescriptor(p->y);
        if (p->bias) cudnnDestroyTensorDescriptor(p->bias);
        if (p->filt) cudnnDestroyFilterDescriptor(p->filt);
        if (p->conv) cudnnDestroyConvolutionDescriptor(p->conv);
    }
    b->n_plans = 0;
}

/* FFT algorithms round more than a float32 user expects of "fp32". */
static bool is_fft(cudnnConvolutionFwdAlgo_t a) {
    return a == CUDNN_CONVOLUTION_FWD_ALGO_FFT || a == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING;
}

static bool is_fft(cudnnConvolutionBwdDataAlgo_t a) {
    return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING;
}

static bool is_fft(cudnnConvolutionBwdFilterAlgo_t a) {
    return a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT || a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING;
}

/* Whether a timed algorithm may be chosen; later passes relax the wishes:
 * pass 1 takes the default math type (which some cuDNN versions report for
 * FMA kernels; the descriptor keeps FMA in float32 mode), pass 2 a
 * nondeterministic or FFT algorithm. */
template <typename Perf> static bool acceptable(const struct nsc_backend *b, int pass, const Perf &perf) {
    cudnnMathType_t math = perf.mathType;
    if (perf.status != CUDNN_STATUS_SUCCESS || perf.memory > NSC_WORKSPACE ||
        math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) /* that one may round to fp16 */
        return false;
    bool fp32 = b->prec == NS_PRECISION_FP32;
    if (pass < 2 && (perf.determinism != CUDNN_DETERMINISTIC || (fp32 && is_fft(perf.algo)))) return false;
    return !fp32 || math == CUDNN_FMA_MATH || (pass >= 1 && math == CUDNN_DEFAULT_MATH);
}

/* Takes the fastest acceptable of n timed results (cuDNN sorts them by time). */
template <typename Perf>
static bool choose(struct nsc_backend *b, struct nsc_plan *p, const Perf *perf, int n) {
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < n; i++)
            if (acceptable(b, pass, perf[i])) {
                cudnnMathType_t math = b->prec != NS_PRECISION_FP32 ? perf[i].mathType : CUDNN_FMA_MATH;
                if (nsc_dnn_failed(b, cudnnSetConvolutionMathType(p->conv, math), "math type")) return false;
                p->algo = (int) perf[i].algo;
                p->fused = true; /* a new algorithm: fusion is tried again */
                return true;
            }
    nsc_fail(b, NS_STATUS_BACKEND_ERROR, "convolution", "no algorithm fits the workspace");
    return false;
}

/* A plan's shape: the VGG's 3 x 3 convolutions (padded by 1, stride 1) or
 * the fast styles' k x k at a stride, unpadded, in float32 tensors even in
 * bf16 mode (prec then TF32). */
struct plan_shape {
    int bwd; /* NSC_FWD, NSC_BWD_DATA or NSC_BWD_FILTER */
    enum ns_precision prec;
    int cin, cout, h, w, k, stride, pad;
};

static struct plan_shape vgg_shape(const struct nsc_backend *b, int bwd, int cin, int cout, int h, int w) {
    return (struct plan_shape){bwd, b->prec, cin, cout, h, w, 3, 1, 1};
}

static struct nsc_plan *new_plan(struct nsc_backend *b, const struct plan_shape *sh) {
    if (b->n_plans == NSC_MAX_PLANS) nsc_plans_free(b); /* many sizes seen: start over */
    struct nsc_plan *p = &b->plans[b->n_plans];
    *p = nsc_plan();
    p->bwd = sh->bwd;
    p->cin = sh->cin, p->cout = sh->cout, p->h = sh->h, p->w = sh->w;
    p->k = sh->k, p->stride = sh->stride;
    p->prec = sh->prec;
    p->algo = -1;
    int cin = sh->cin, cout = sh->cout, h = sh->h, w = sh->w, k = sh->k;
    int oh = (h + 2 * sh->pad - k) / sh->stride + 1, ow = (w + 2 * sh->pad - k) / sh->stride + 1;
    /* bf16: tensors and weights in bfloat16, accumulation in float32 */
    cudnnDataType_t t = sh->prec == NS_PRECISION_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    cudnnMathType_t math = sh->prec == NS_PRECISION_FP32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
    bool ok = !nsc_dnn_failed(b, cudnnCreateTensorDescriptor(&p->x), "descriptor") &&
              !nsc_dnn_failed(b, cudnnCreateTensorDescriptor(&p->y), "descriptor") &&
              !nsc_dnn_failed(b, cudnnCreateTensorDescriptor(&p->bias), "descriptor") &&
              !nsc_dnn_failed(b, cudnnCreateFilterDescriptor(&p->filt), "descriptor") &&
              !nsc_dnn_failed(b, cudnnCreateConvolutionDescriptor(&p->conv), "descriptor") &&
              !nsc_dnn_failed(b, cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, t, 1, cin, h, w),
                              "input shape") &&
              !nsc_dnn_failed(b, cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, t, 1, cout, oh, ow),
                              "output shape") &&
              !nsc_dnn_failed(
                  b, cudnnSetTensor4dDescriptor(p->bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, cout, 1, 1),
                  "bias shape") &&
              !nsc_dnn_failed(b, cudnnSetFilter4dDescriptor(p->filt, t, CUDNN_TENSOR_NCHW, cout, cin, k, k),
                              "filter shape") &&
              !nsc_dnn_failed(b,
                              cudnnSetConvolution2dDescriptor(p->conv, sh->pad, sh->pad, sh->stride, sh->stride,
                                                              1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                              "convolution") &&
              !nsc_dnn_failed(b, cudnnSetConvolutionMathType(p->conv, math), "math type");
    b->n_plans++; /* counted even on failure, so that its descriptors are freed */
    return ok ? p : NULL;
}

static struct nsc_plan *find_plan(struct nsc_backend *b, const struct plan_shape *sh) {
    for (int i = 0; i < b->n_plans; i++) {
        struct nsc_plan *p = &b->plans[i];
        if (p->bwd == sh->bwd && p->cin == sh->cin && p->cout == sh->cout && p->h == sh->h && p->w == sh->w &&
            p->k == sh->k && p->stride == sh->stride && p->prec == sh->prec && p->algo >= 0)
            return p;
    }
    return NULL;
}

/* Before timing: the math type of the precision, not the one the heuristic
 * pick left, so that cudnnFind considers every allowed kernel. */
static bool widest_math(struct nsc_backend *b, struct nsc_plan *p) {
    cudnnMathType_t math = b->prec == NS_PRECISION_FP32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
    return !nsc_dnn_failed(b, cudnnSetConvolutionMathType(p->conv, math), "math type");
}

/* A shape's first use takes cuDNN's heuristic choice (a shape used once, like
 * the style image's forward pass, is not worth timing every algorithm on);
 * its second use times them on the real buffers and keeps the fastest.
 * heuristic(p, n, perf) and timing(p, n, perf) are the direction's two
 * cuDNN calls. */
template <typename Perf, int Count, typename Heuristic, typename Timing>
static struct nsc_plan *plan_for(struct nsc_backend *b, const struct plan_shape *sh, Heuristic heuristic,
                                 Timing timing) {
    if (b->status) return NULL;
    struct nsc_plan *p = find_plan(b, sh);
    if (p && p->timed) return p;
    Perf perf[Count];
    int n = 0;
    if (!p) {
        if (!(p = new_plan(b, sh)) ||
            nsc_dnn_failed(b, heuristic(p, Count, &n, perf), "choosing a convolution algorithm") ||
            !choose(b, p, perf, n))
            return NULL;
        return p;
    }
    p->timed = true;
    if (!widest_math(b, p) || nsc_dnn_failed(b, timing(p, Count, &n, perf), "timing convolution algorithms") ||
        !choose(b, p, perf, n))
        return NULL;
    return p;
}

static struct nsc_plan *forward_plan(struct nsc_backend *b, const void *in, const void *wt, void *out,
                                     const struct plan_shape *sh) {
    return plan_for<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT>(
        b, sh,
        [&](struct nsc_plan *p, int count, int *n, cudnnConvolutionFwdAlgoPerf_t *perf) {
            return cudnnGetConvolutionForwardAlgorithm_v7(b->dnn, p->x, p->filt, p->conv, p->y, count, n, perf);
        },
        [&](struct nsc_plan *p, int count, int *n, cudnnConvolutionFwdAlgoPerf_t *perf) {
            return cudnnFindConvolutionForwardAlgorithmEx(b->dnn, p->x, in, p->filt, wt, p->conv, p->y, out, count,
                                                          n, perf, b->ws, NSC_WORKSPACE);
        });
}

static struct nsc_plan *backward_plan(struct nsc_backend *b, const void *gout, const void *wt, void *gin,
                                      const struct plan_shape *sh) {
    return plan_for<cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT>(
        b, sh,
        [&](struct nsc_plan *p, int count, int *n, cudnnConvolutionBwdDataAlgoPerf_t *perf) {
            return cudnnGetConvolutionBackwardDataAlgorithm_v7(b->dnn, p->filt, p->y, p->conv, p->x, count, n,
                                                               perf);
        },
        [&](struct nsc_plan *p, int count, int *n, cudnnConvolutionBwdDataAlgoPerf_t *perf) {
            return cudnnFindConvolutionBackwardDataAlgorithmEx(b->dnn, p->filt, wt, p->y, gout, p->conv, p->x, gin,
                                                               count, n, perf, b->ws, NSC_WORKSPACE);
        });
}

/* The weights' gradient; timed into a scratch copy, since the real call
 * accumulates (beta 1) and cudnnFind overwrites its output. */
static struct nsc_plan *filter_plan(struct nsc_backend *b, const void *in, const void *gout, void *scratch,
                                    const struct plan_shape *sh) {
    return plan_for<cudnnConvolutionBwdFilterAlgoPerf_t, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT>(
        b, sh,
        [&](struct nsc_plan *p, int count, int *n, cudnnConvolutionBwdFilterAlgoPerf_t *perf) {
            return cudnnGetConvolutionBackwardFilterAlgorithm_v7(b->dnn, p->x, p->y, p->conv, p->filt, count, n,
                                                                 perf);
        },
        [&](struct nsc_plan *p, int count, int *n, cudnnConvolutionBwdFilterAlgoPerf_t *perf) {
            return cudnnFindConvolutionBackwardFilterAlgorithmEx(b->dnn, p->x, in, p->y, gout, p->conv, p->filt,
                                                                 scratch, count, n, perf, b->ws, NSC_WORKSPACE);
        });
}

void nsc_conv3x3(struct ns_backend *be, const struct ns_buf *in_b, int cin, int h, int w,
                 const struct ns_buf *wt_b, const struct ns_buf *bias_b, int cout, struct ns_buf *out_b,
                 bool relu) {
    const float *in = CD(in_b);
    const float *wt = CD(wt_b);
    const float *bias = CD(bias_b);
    float *out = D(out_b);
    struct nsc_backend *b = nsc(be);
    if (b->status) return;
    bool half = nsc_half(out_b);
    if (half && !nsc_half(in_b)) { /* the float32 image into the first bfloat16 layer */
        nsc_conv_first(b, in, cin, h, w, wt, bias, cout, out, relu);
        return;
    }
    if (half != (b->prec == NS_PRECISION_BF16) || half != nsc_half(in_b)) {
        nsc_fail(b, NS_STATUS_BACKEND_ERROR, "convolution", "operands of mixed types");
        return;
    }
    const void *w_dev = half ? (const void *) nsc_half_weights(b, wt_b) : (const void *) wt;
    if (!w_dev) return;
    struct plan_shape sh = vgg_shape(b, NSC_FWD, cin, cout, h, w);
    struct nsc_plan *p = forward_plan(b, in, w_dev, out, &sh);
    if (!p) return;
    cudnnConvolutionFwdAlgo_t algo = (cudnnConvolutionFwdAlgo_t) p->algo;
    /* fused bias and ReLU in float32 only: cuDNN wants the bias in the tensors' type */
    if (bias && relu && p->fused && !half) {
        /* alpha2 = 0: the z input (here the output itself) does not count */
        cudnnStatus_t s = cudnnConvolutionBiasActivationForward(b->dnn, &one, p->x, in, p->filt, wt, p->conv,
                                                                algo, b->ws, NSC_WORKSPACE, &zero, p->y, out,
                                                                p->bias, bias, b->relu, p->y, out);
        if (s == CUDNN_STATUS_SUCCESS) return;
        /* not supported for this algorithm (or refused otherwise): the
         * separate path below overwrites out, and fails on a real error */
        p->fused = false;
    }
    if (nsc_dnn_failed(b,
                       cudnnConvolutionForward(b->dnn, &one, p->x, in, p->filt, w_dev, p->conv, algo, b->ws,
                                               NSC_WORKSPACE, &zero, p->y, out),
                       "convolution"))
        return;
    if (bias || relu) nsc_bias_relu(b, half, out, bias, cout, (size_t) h * w, relu);
}

void nsc_conv3x3_bwd(struct ns_backend *be, const struct ns_buf *gout_b, int cout, int h, int w,
                     const struct ns_buf *wt_b, int cin, struct ns_buf *gin_b) {
    const float *gout = CD(gout_b);
    const float *wt = CD(wt_b);
    float *gin = D(gin_b);
    struct nsc_backend *b = nsc(be);
    if (b->status) return;
    bool half = nsc_half(gout_b);
    if (half != (b->prec == NS_PRECISION_BF16) || half != nsc_half(gin_b)) {
        nsc_fail(b, NS_STATUS_BACKEND_ERROR, "backward convolution", "operands of mixed types");
        return;
    }
    const void *w_dev = half ? (const void *) nsc_half_weights(b, wt_b) : (const void *) wt;
    if (!w_dev) return;
    struct plan_shape sh = vgg_shape(b, NSC_BWD_DATA, cin, cout, h, w);
    struct nsc_plan *p = backward_plan(b, gout, w_dev, gin, &sh);
    if (!p) return;
    nsc_dnn_failed(b,
                   cudnnConvolutionBackwardData(b->dnn, &one, p->filt, w_dev, p->y, gout, p->conv,
                                                (cudnnConvolutionBwdDataAlgo_t) p->algo, b->ws, NSC_WORKSPACE,
                                                &zero, p->x, gin),
                   "backward convolution");
}

/* The fast styles' convolution: k x k at a stride over an input already
 * padded (reflection, nsc_reflect_pad), float32 tensors at any precision
 * (bf16 mode computes it as TF32), then the bias. */
void nsc_conv2d(struct ns_backend *be, const struct ns_buf *in_b, int cin, int h, int w, const struct ns_buf *wt_b,
                const struct ns_buf *bias_b, int cout, int k, int stride, struct ns_buf *out_b) {
    struct nsc_backend *b = nsc(be);
    if (b->status) return;
    if (nsc_half(in_b) || nsc_half(out_b)) {
        nsc_fail(b, NS_STATUS_BACKEND_ERROR, "convolution", "the fast styles' tensors are float32");
        return;
    }
    enum ns_precision prec = b->prec == NS_PRECISION_FP32 ? NS_PRECISION_FP32 : NS_PRECISION_TF32;
    struct plan_shape sh = {NSC_FWD, prec, cin, cout, h, w, k, stride, 0};
    float *out = D(out_b);
    struct nsc_plan *p = forward_plan(b, CD(in_b), CD(wt_b), out, &sh);
    if (!p ||
        nsc_dnn_failed(b,
                       cudnnConvolutionForward(b->dnn, &one, p->x, CD(in_b), p->filt, CD(wt_b), p->conv,
                                               (cudnnConvolutionFwdAlgo_t) p->algo, b->ws, NSC_WORKSPACE, &zero,
                                               p->y, out),
                       "convolution"))
        return;
    int oh = (h - k) / stride + 1, ow = (w - k) / stride + 1;
    if (bias_b) nsc_bias_relu(b, false, out, CD(bias_b), cout, (size_t) oh * ow, false);
}

/* The fast styles' precision: float32, or TF32 in both reduced modes. */
static enum ns_precision fast_prec(const struct nsc_backend *b) {
    return b->prec == NS_PRECISION_FP32 ? NS_PRECISION_FP32 : NS_PRECISION_TF32;
}

static bool fast_f32(struct nsc_backend *b, const struct ns_buf *x, const struct ns_buf *y, const char *what) {
    if (!nsc_half(x) && !nsc_half(y)) return true;
    nsc_fail(b, NS_STATUS_BACKEND_ERROR, what, "the fast styles' tensors are float32");
    return false;
}

void nsc_conv2d_bwd_data(struct ns_backend *be, const struct ns_buf *gout_b, int cout, const struct ns_buf *wt_b,
                         int cin, int h, int w, int k, int stride, struct ns_buf *gin_b) {
    struct nsc_backend *b = nsc(be);
    if (b->status || !fast_f32(b, gout_b, gin_b, "backward convolution")) return;
    struct plan_shape sh = {NSC_BWD_DATA, fast_prec(b), cin, cout, h, w, k, stride, 0};
    struct nsc_plan *p = backward_plan(b, CD(gout_b), CD(wt_b), D(gin_b), &sh);
    if (p)
        nsc_dnn_failed(b,
                       cudnnConvolutionBackwardData(b->dnn, &one, p->filt, CD(wt_b), p->y, CD(gout_b), p->conv,
                                                    (cudnnConvolutionBwdDataAlgo_t) p->algo, b->ws, NSC_WORKSPACE,
                                                    &zero, p->x, D(gin_b)),
                       "backward convolution");
}

void nsc_conv2d_bwd_filter(struct ns_backend *be, const struct ns_buf *in_b, int cin, int h, int w,
                           const struct ns_buf *gout_b, int cout, int k, int stride, struct ns_buf *gwt_b,
                           struct ns_buf *gbias_b) {
    struct nsc_backend *b = nsc(be);
    if (b->status || !fast_f32(b, in_b, gout_b, "weight gradient")) return;
    struct plan_shape sh = {NSC_BWD_FILTER, fast_prec(b), cin, cout, h, w, k, stride, 0};
    struct nsc_plan *p = find_plan(b, &sh);
    void *scratch = NULL;
    size_t bytes = sizeof(float) * cout * cin * k * k;
    if (p && !p->timed && nsc_cuda_failed(b, cudaMalloc(&scratch, bytes), "cudaMalloc")) return;
    p = filter_plan(b, CD(in_b), CD(gout_b), scratch, &sh);
    if (scratch) nsc_cuda_failed(b, cudaFree(scratch), "cudaFree");
    if (!p ||
        nsc_dnn_failed(b,
                       cudnnConvolutionBackwardFilter(b->dnn, &one, p->x, CD(in_b), p->y, CD(gout_b), p->conv,
                                                      (cudnnConvolutionBwdFilterAlgo_t) p->algo, b->ws,
                                                      NSC_WORKSPACE, &one, p->filt, D(gwt_b)),
                       "weight gradient"))
        return;
    int oh = (h - k) / stride + 1, ow = (w - k) / stride + 1;
    nsc_bias_grad(b, CD(gout_b), cout, (size_t) oh * ow, D(gbias_b));
}

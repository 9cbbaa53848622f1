/* conv.c - make bench-conv: the CPU backend's 3 x 3 convolutions, direct
 * (im2col + sgemm) against Winograd F(4x4, 3x3), per layer shape of
 * VGG-19 at 256 and 512 px and of the fast network at 2.8 MP; and
 * OpenBLAS's sgemm rate on a 2048^2 product, the yardstick.  A markdown
 * table on stdout; what ns_wino_pays chooses in the last column.
 *
 *   conv [--threads T] [--repeat N]
 */
#include "../testlib.h"
#include "bench.h"
#include "winograd.h"

struct shape {
    const char *name;
    int cin, cout, h, w;
    int op; /* 0 conv3x3 (pad 1), 1 the input gradient of a pad-0 conv2d */
};

/* the fastest of `repeat` calls, in seconds */
static double time_op(struct ns_backend *be, const struct shape *s, int repeat) {
    const struct ns_backend_ops *o = be->ops;
    size_t ni = (size_t) s->cin * s->h * s->w, no = (size_t) s->cout * s->h * s->w, nw = (size_t) s->cin * s->cout * 9;
    float *x = falloc(ni > no ? ni : no), *wt = falloc(nw);
    fill_uniform(x, ni > no ? ni : no, 0, 1);
    fill_normal(wt, nw, 0.05);
    struct ns_buf *bx = o->alloc(be, ni > no ? ni : no, NS_DTYPE_F32), *bw = o->alloc(be, nw, NS_DTYPE_F32),
                  *by = o->alloc(be, ni > no ? ni : no, NS_DTYPE_F32);
    o->upload(be, bx, x, ni > no ? ni : no);
    o->upload(be, bw, wt, nw);
    double best = 1e30;
    for (int r = 0; r <= repeat; r++) { /* the first call warms up */
        double t0 = now();
        if (s->op == 0)
            o->conv3x3(be, bx, s->cin, s->h, s->w, bw, NULL, s->cout, by, true);
        else /* gout is cout x (h - 2) x (w - 2); gin cin x h x w */
            o->conv2d_bwd_data(be, bx, s->cout, bw, s->cin, s->h, s->w, 3, 1, by);
        double t = now() - t0;
        if (r && t < best) best = t;
    }
    o->release(be, bx), o->release(be, bw), o->release(be, by);
    free(x), free(wt);
    return best;
}

int main(int argc, char **argv) {
    int threads = ns_cpu_cores(), repeat = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--repeat")) repeat = atoi(argv[i + 1]);
    }
    static const struct shape shapes[] = {
        {"VGG conv1_2, 256 px", 64, 64, 256, 256, 0},     {"VGG conv2_2, 256 px", 128, 128, 128, 128, 0},
        {"VGG conv3_2, 256 px", 256, 256, 64, 64, 0},     {"VGG conv4_2, 256 px", 512, 512, 32, 32, 0},
        {"VGG conv5_1, 256 px", 512, 512, 16, 16, 0},     {"VGG conv1_2, 512 px", 64, 64, 512, 512, 0},
        {"VGG conv2_2, 512 px", 128, 128, 256, 256, 0},   {"VGG conv3_2, 512 px", 256, 256, 128, 128, 0},
        {"VGG conv4_2, 512 px", 512, 512, 64, 64, 0},     {"VGG conv5_1, 512 px", 512, 512, 32, 32, 0},
        {"VGG conv5_1, 128 px", 512, 512, 8, 8, 0},       {"VGG conv4_2, 64 px", 512, 512, 8, 8, 0},
        {"VGG conv1_2, 16 px", 64, 64, 16, 16, 0},
        {"fast res. block, 2.8 MP", 128, 128, 343, 514, 1}, {"fast up 1, 2.8 MP", 64, 64, 685, 1026, 1},
    };
    struct ns_backend *direct = cpu_backend_conv("direct", threads), *wino = cpu_backend_conv("winograd", threads);
    if (!direct || !wino) return 1;
    double rate1 = sgemm_gflops(1, repeat); /* as the backend runs it: one sgemm a thread */
    printf("CPU 3 x 3 convolutions, %d threads (fastest of %d calls); OpenBLAS sgemm %.0f GFLOP/s a thread "
           "(2048^2).\n\n",
           threads, repeat, rate1);
    printf("| layer | in -> out channels | size | direct ms | Winograd ms | Winograd / direct | chosen |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const struct shape *s = &shapes[i];
        double td = time_op(direct, s, repeat), tw = time_op(wino, s, repeat);
        int oh = s->op ? s->h : s->h, ow = s->w;
        bool pays = s->op ? ns_wino_pays(s->cout, s->cin, oh, ow) : ns_wino_pays(s->cin, s->cout, oh, ow);
        printf("| %s%s | %d -> %d | %d x %d | %.2f | %.2f | %.2f | %s |\n", s->name,
               s->op ? " (input gradient)" : "", s->cin, s->cout, s->w, s->h, td * 1e3, tw * 1e3, tw / td,
               pays ? "Winograd" : "direct");
        fflush(stdout);
    }
    direct->ops->free(direct);
    wino->ops->free(wino);
    return 0;
}

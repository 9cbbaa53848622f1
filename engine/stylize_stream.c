/* stylize_stream.c - a fast style's network over a photo too large for
 * memory: layer by layer, in bands of rows, through temporary files.
 *
 * Instance normalisation needs each channel's mean and variance over the
 * whole image; a tile normalised by its own statistics differs in colour
 * from its neighbours.  So the network runs one layer at a time: each
 * convolution reads its input in bands of rows (with the rows its kernel
 * reaches, mirrored at the edges as the whole image's padding is) from a
 * file, writes its output to another and sums its channels' moments as
 * doubles.  The normalisation that follows then has the whole image's
 * statistics and is applied in a pass over the file, as is a residual
 * block's sum.  Every pixel is computed as in memory, so a streamed run
 * equals one in memory (test_stylize).
 *
 * Why not tiles that recompute from the photo: each of the 15
 * normalisations would need a pass from the input up to it, about 8 times
 * the network's work.  Here the work is the network's once, plus reading
 * and writing each layer once or twice (a few GB at 24 MP, mostly in the
 * page cache, which is not the process's memory).  The files are unlinked
 * at once and their space reserved when made, so a full disk is a
 * sentence before the work, and nothing is left behind.
 */
#include "backend.h"
#include "ffnet.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ff_file {
    int fd, c, h, w;
};

struct ff_stream {
    struct ns_backend *be;
    const struct ns_style_model *m;
    struct ns_buf *const (*param)[2];
    double budget; /* bytes for a band's buffers */
    int band;      /* > 0: output rows per band, forced */
    char *why;
    size_t why_len;
};

static enum ns_status fail(struct ff_stream *s, enum ns_status st, const char *what) {
    snprintf(s->why, s->why_len, "%s", what);
    return st;
}

static const char *tmp_dir(void) {
    const char *d = getenv("TMPDIR");
    return d && *d ? d : "/tmp";
}

static enum ns_status file_new(struct ff_stream *s, struct ff_file *f, int c, int h, int w) {
    char path[4096];
    snprintf(path, sizeof path, "%s/neural-style-XXXXXX", tmp_dir());
    f->c = c, f->h = h, f->w = w;
    f->fd = mkstemp(path);
    if (f->fd < 0) {
        char msg[4200];
        snprintf(msg, sizeof msg, "cannot make a temporary file in %s (%s): set TMPDIR to a folder with room",
                 tmp_dir(), strerror(errno));
        return fail(s, NS_STATUS_IO_ERROR, msg);
    }
    unlink(path);
    off_t bytes = (off_t) c * h * w * (off_t) sizeof(float);
    int e = posix_fallocate(f->fd, 0, bytes);
    if (e) {
        char msg[4200];
        snprintf(msg, sizeof msg, "%s has no room for a layer of %.1f GB (%s): free some, or set TMPDIR to a folder with room",
                 tmp_dir(), bytes / 1e9, strerror(e));
        close(f->fd);
        f->fd = -1;
        return fail(s, NS_STATUS_IO_ERROR, msg);
    }
    return NS_STATUS_OK;
}

static void file_close(struct ff_file *f) {
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
}

/* Rows y..y+rows-1 of channel ch, read into buf or written from it. */
static enum ns_status file_rows(struct ff_stream *s, const struct ff_file *f, bool write, int ch, int y, int rows,
                                float *buf) {
    off_t off = ((off_t) ch * f->h + y) * f->w * (off_t) sizeof(float);
    size_t left = (size_t) rows * f->w * sizeof(float);
    char *p = (char *) buf;
    while (left) {
        ssize_t n = write ? pwrite(f->fd, p, left, off) : pread(f->fd, p, left, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail(s, NS_STATUS_IO_ERROR, "reading or writing a temporary layer failed");
        p += n, off += n, left -= (size_t) n;
    }
    return NS_STATUS_OK;
}

/* Output rows per band for step st's convolution, within the budget. */
static int band_rows(const struct ff_stream *s, const struct ns_ff_step *st, int in_w, int out_w, int out_h) {
    if (s->band > 0) return s->band < out_h ? s->band : out_h;
    int pw = in_w + 2 * (st->k / 2);
    /* the band in and out, on the host and on the backend */
    double per_row = 2.0 * sizeof(float) * ((double) st->cin * st->stride * pw + (double) st->cout * out_w);
    double fixed = 2.0 * sizeof(float) * (double) st->cin * st->k * pw;
    int n = (int) ((s->budget - fixed) / per_row);
    return n < 1 ? 1 : n > out_h ? out_h : n;
}

/* Step i's convolution of in (upsampled x 2 on reading when up) into out;
 * mom gets out's channel sums and sums of squares. */
static enum ns_status conv_stream(struct ff_stream *s, int i, const struct ff_file *in, bool up,
                                  const struct ff_file *out, double *mom) {
    const struct ns_ff_step *st = &s->m->arch->steps[i];
    int p = st->k / 2, ih = in->h * (up ? 2 : 1), iw = in->w * (up ? 2 : 1), pw = iw + 2 * p;
    int band = band_rows(s, st, iw, out->w, out->h), max_in = (band - 1) * st->stride + st->k;
    size_t n_in = (size_t) st->cin * max_in * pw, n_out = (size_t) st->cout * band * out->w;
    int max_src = max_in / (up ? 2 : 1) + 2;
    float *host_in = malloc(n_in * sizeof(float)), *host_out = malloc(n_out * sizeof(float));
    float *rows = malloc((size_t) max_src * in->w * sizeof(float));
    struct ns_buf *b_in = ns_alloc_f32(s->be, n_in), *b_out = ns_alloc_f32(s->be, n_out);
    enum ns_status r = host_in && host_out && rows && b_in && b_out ? NS_STATUS_OK : NS_STATUS_OUT_OF_MEMORY;
    memset(mom, 0, 2 * sizeof(double) * (size_t) st->cout);
    for (int r0 = 0; !r && r0 < out->h; r0 += band) {
        int n = out->h - r0 < band ? out->h - r0 : band, rows_in = (n - 1) * st->stride + st->k;
        /* the stored rows these padded rows come from */
        int lo = in->h, hi = -1;
        for (int j = 0; j < rows_in; j++) {
            int y = ns_reflect_index(r0 * st->stride + j - p, ih) / (up ? 2 : 1);
            lo = y < lo ? y : lo, hi = y > hi ? y : hi;
        }
        for (int c = 0; !r && c < st->cin; c++) {
            r = file_rows(s, in, false, c, lo, hi - lo + 1, rows);
            for (int j = 0; !r && j < rows_in; j++) {
                int y = ns_reflect_index(r0 * st->stride + j - p, ih) / (up ? 2 : 1);
                const float *src = rows + (size_t) (y - lo) * in->w;
                float *dst = host_in + ((size_t) c * rows_in + j) * pw;
                for (int x = 0; x < pw; x++)
                    dst[x] = src[ns_reflect_index(x - p, iw) / (up ? 2 : 1)];
            }
        }
        if (r) break;
        s->be->ops->upload(s->be, b_in, host_in, (size_t) st->cin * rows_in * pw);
        s->be->ops->conv2d(s->be, b_in, st->cin, rows_in, pw, s->param[i][0], s->param[i][1], st->cout, st->k,
                           st->stride, b_out);
        s->be->ops->download(s->be, host_out, b_out, (size_t) st->cout * n * out->w);
        if ((r = s->be->ops->sync(s->be))) break;
        for (int c = 0; !r && c < st->cout; c++) {
            const float *v = host_out + (size_t) c * n * out->w;
            double sum = 0, sq = 0;
            for (size_t k = 0; k < (size_t) n * out->w; k++)
                sum += v[k], sq += (double) v[k] * v[k];
            mom[2 * c] += sum, mom[2 * c + 1] += sq;
            r = file_rows(s, out, true, c, r0, n, (float *) v);
        }
    }
    ns_release(s->be, &b_in), ns_release(s->be, &b_out);
    free(host_in), free(host_out), free(rows);
    if (r == NS_STATUS_OUT_OF_MEMORY) return fail(s, r, "not enough memory for one band of rows");
    return r;
}

/* f = a * f + b per channel (then ReLU), plus add when given, in place. */
static enum ns_status pointwise(struct ff_stream *s, const struct ff_file *f, const float *a, const float *b,
                                bool relu, const struct ff_file *add) {
    int rows = (int) (s->budget / 3 / (sizeof(float) * (double) f->w));
    rows = rows < 1 ? 1 : rows > f->h ? f->h : rows;
    float *x = malloc((size_t) rows * f->w * sizeof(float)), *y = add ? malloc((size_t) rows * f->w * sizeof(float)) : NULL;
    enum ns_status r = x && (y || !add) ? NS_STATUS_OK : fail(s, NS_STATUS_OUT_OF_MEMORY, "not enough memory");
    for (int c = 0; !r && c < f->c; c++)
        for (int y0 = 0; !r && y0 < f->h; y0 += rows) {
            int n = f->h - y0 < rows ? f->h - y0 : rows;
            size_t m = (size_t) n * f->w;
            if ((r = file_rows(s, f, false, c, y0, n, x))) break;
            if (add && (r = file_rows(s, add, false, c, y0, n, y))) break;
            for (size_t k = 0; k < m; k++) {
                float v = a ? a[c] * x[k] + b[c] : x[k];
                if (relu && v < 0) v = 0;
                x[k] = add ? v + y[k] : v;
            }
            r = file_rows(s, f, true, c, y0, n, x);
        }
    free(x), free(y);
    return r;
}

enum ns_status ns_ff_stream(struct ns_backend *be, const struct ns_style_model *m, struct ns_buf *const param[][2],
                            const float *input, int h, int w, double budget, int band, struct ns_ff_progress *pr,
                            float *output, char *why, size_t why_len) {
    struct ff_stream s = {be, m, param, budget, band, why, why_len};
    const struct ns_ff_arch *a = m->arch;
    struct ns_ff_shape sh;
    ns_ff_shape(a, h, w, &sh);
    struct ff_file cur = {-1, 0, 0, 0}, saved = {-1, 0, 0, 0}, next = {-1, 0, 0, 0};
    double mom[2 * 512];
    float ca[512], cb[512];
    bool up = false;
    enum ns_status r = file_new(&s, &cur, 3, h, w);
    for (int c = 0; !r && c < 3; c++)
        r = file_rows(&s, &cur, true, c, 0, h, (float *) input + (size_t) c * h * w);
    for (int i = 0; !r && i < a->n_steps; i++) {
        const struct ns_ff_step *st = &a->steps[i];
        switch (st->kind) {
        case NS_FF_CONV:
            if (st->cout > 512) {
                r = fail(&s, NS_STATUS_INVALID_ARGUMENT, "a layer wider than 512 channels");
                break;
            }
            if ((r = file_new(&s, &next, st->cout, sh.h[i + 1], sh.w[i + 1]))) break;
            r = conv_stream(&s, i, &cur, up, &next, mom);
            up = false;
            if (cur.fd != saved.fd) file_close(&cur);
            cur = next, next.fd = -1;
            if (!r && !ns_ff_progress_step(pr, a, &sh, i)) r = NS_STATUS_CANCELLED;
            break;
        case NS_FF_NORM:
            ns_ff_norm_coeffs(m, i, st->cout, (double) cur.h * cur.w, mom, ca, cb);
            r = pointwise(&s, &cur, ca, cb, st->relu, NULL);
            break;
        case NS_FF_SAVE: saved = cur; break;
        case NS_FF_ADD:
            r = pointwise(&s, &cur, NULL, NULL, false, &saved);
            file_close(&saved);
            break;
        case NS_FF_UP: up = true; break; /* done by the next convolution as it reads */
        }
    }
    int oh = sh.h[a->n_steps], ow = sh.w[a->n_steps];
    for (int c = 0; !r && c < 3; c++)
        r = file_rows(&s, &cur, false, c, 0, oh, output + (size_t) c * oh * ow);
    if (saved.fd != cur.fd) file_close(&saved);
    file_close(&cur), file_close(&next);
    return r;
}

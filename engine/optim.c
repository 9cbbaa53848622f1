/* optim.c - L-BFGS and Adam written once over the backend's vector ops.
 *
 * L-BFGS uses the compact representation of Byrd, Nocedal & Schnabel (1994,
 * "Representations of quasi-Newton matrices", eq. 3.13 / Thm 2.2):
 *   H = g I + [S gY] [[R^-T (D + g Y^T Y) R^-1, -R^-T], [-R^-1, 0]] [S^T; g Y^T]
 * so a direction costs two multi-dots and two linear combinations on the
 * backend and only 2k scalars cross to the host, where the k x k triangular
 * algebra runs in double.  It equals the classic two-loop recursion (a test
 * checks).  Steps satisfy the Armijo condition by backtracking; every trial
 * is one evaluation, and rejected trials never replace the best point.
 */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS_MAX_HISTORY 400
#define SLOT_S         NS_SLOT_OPT /* 2 x history slots: S.v then Y.v */
#define SLOT_MISC      (NS_SLOT_OPT + 2 * NS_MAX_HISTORY)
#define ARMIJO_C1      1e-4

void ns_optim_release(struct ns_optim *o) {
    if (!o->be) return;
    struct ns_buf **bufs[] = {&o->x, &o->g, &o->m, &o->v, &o->d, &o->xt, &o->gt};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        ns_release(o->be, bufs[i]);
    for (int i = 0; i < o->hist; i++) {
        if (o->s) ns_release(o->be, &o->s[i]);
        if (o->y) ns_release(o->be, &o->y[i]);
    }
    free(o->s);
    free(o->y);
    free(o->sy);
    free(o->yy);
    memset(o, 0, sizeof *o);
}

enum ns_status ns_optim_init(struct ns_optim *o, struct ns_backend *be, enum ns_optimizer kind, size_t n,
                             float lr, int history, ns_eval_fn eval, void *ud) {
    memset(o, 0, sizeof *o);
    o->be = be;
    o->kind = kind;
    o->n = n;
    o->eval = eval;
    o->ud = ud;
    o->lr = lr;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    bool ok = (o->x = ns_alloc_f32(be, n)) && (o->g = ns_alloc_f32(be, n));
    if (kind == NS_OPTIMIZER_ADAM) {
        ok = ok && (o->m = ns_alloc_f32(be, n)) && (o->v = ns_alloc_f32(be, n));
    } else {
        if (history < 1) history = 1;
        if (history > NS_MAX_HISTORY) history = NS_MAX_HISTORY;
        o->hist = history;
        ok = ok && (o->d = ns_alloc_f32(be, n)) && (o->xt = ns_alloc_f32(be, n)) &&
             (o->gt = ns_alloc_f32(be, n)) && (o->s = calloc((size_t) history, sizeof *o->s)) &&
             (o->y = calloc((size_t) history, sizeof *o->y)) &&
             (o->sy = calloc((size_t) history * history, sizeof(double))) &&
             (o->yy = calloc((size_t) history * history, sizeof(double)));
        for (int i = 0; i < history && ok; i++)
            ok = (o->s[i] = ns_alloc_f32(be, n)) && (o->y[i] = ns_alloc_f32(be, n));
    }
    if (!ok) {
        ns_optim_release(o);
        return NS_STATUS_OUT_OF_MEMORY;
    }
    return NS_STATUS_OK;
}

static enum ns_status dot(struct ns_optim *o, const struct ns_buf *a, const struct ns_buf *b, double *out) {
    o->be->ops->dots(o->be, &a, 1, b, o->n, SLOT_MISC);
    return o->be->ops->read_scalars(o->be, SLOT_MISC, 1, out);
}

enum ns_status ns_optim_start(struct ns_optim *o, const struct ns_buf *x0) {
    const struct ns_backend_ops *ops = o->be->ops;
    ops->copy(o->be, o->x, x0, o->n);
    o->evals = 0;
    o->k = o->head = 0;
    o->have_dir = false;
    o->converged = false;
    enum ns_status st = o->eval(o->ud, o->x, o->g, &o->fx);
    if (st) return st;
    if (!isfinite(o->fx.loss)) return NS_STATUS_NUMERIC_ERROR;
    if (o->kind == NS_OPTIMIZER_ADAM) {
        ops->fill(o->be, o->m, 0.0f, o->n);
        ops->fill(o->be, o->v, 0.0f, o->n);
        /* eps relative to the gradient's RMS, so that Adam behaves the same
         * whatever the objective's scale */
        double gg;
        st = dot(o, o->g, o->g, &gg);
        o->eps = (float) (1e-8 * sqrt(gg / (double) o->n)) + 1e-30f;
    }
    return st;
}

/* s_i . v and y_i . v for the first f pairs, side by side in the slots and
 * read in one transfer (a GPU waits once). */
static enum ns_status read_pairs_dots(struct ns_optim *o, const struct ns_buf *v, int f, double *sv,
                                      double *yv) {
    double all[2 * NS_MAX_HISTORY];
    o->be->ops->dots(o->be, NS_BUFS(o->s), f, v, o->n, SLOT_S);
    o->be->ops->dots(o->be, NS_BUFS(o->y), f, v, o->n, SLOT_S + f);
    enum ns_status st = o->be->ops->read_scalars(o->be, SLOT_S, 2 * f, all);
    if (st) return st;
    memcpy(sv, all, (size_t) f * sizeof(double));
    memcpy(yv, all + f, (size_t) f * sizeof(double));
    return NS_STATUS_OK;
}

/* Ring slot of the c-th oldest pair. */
static int ring(const struct ns_optim *o, int c) {
    return (o->head + c) % o->hist;
}

/* Rows of S and Y ever written (all hold finite data). */
static int filled(const struct ns_optim *o) {
    return o->k == o->hist || o->head > 0 ? o->hist : o->k;
}

enum ns_status ns_lbfgs_direction(struct ns_optim *o, const struct ns_buf *g, struct ns_buf *d) {
    const struct ns_backend_ops *ops = o->be->ops;
    struct ns_backend *be = o->be;
    int k = o->k, f = filled(o);
    if (k == 0) {
        ops->lincomb(be, d, -1.0f, g, NULL, 0, NULL, o->n);
        return NS_STATUS_OK; /* errors surface at the next read */
    }
    double sg[NS_MAX_HISTORY], yg[NS_MAX_HISTORY];
    enum ns_status st = read_pairs_dots(o, g, f, sg, yg);
    if (st) return st;

    int h = o->hist, last = ring(o, k - 1);
#define SY(i, j) o->sy[(size_t) ring(o, i) * h + ring(o, j)]
#define YY(i, j) o->yy[(size_t) ring(o, i) * h + ring(o, j)]
    double gamma = o->sy[(size_t) last * h + last] / o->yy[(size_t) last * h + last];
    double a[NS_MAX_HISTORY], b[NS_MAX_HISTORY], t[NS_MAX_HISTORY], z[NS_MAX_HISTORY], w1[NS_MAX_HISTORY];
    for (int c = 0; c < k; c++) {
        a[c] = sg[ring(o, c)];
        b[c] = gamma * yg[ring(o, c)];
    }
    /* t = R^-1 a, R upper triangular with R_ij = s_i . y_j */
    for (int i = k - 1; i >= 0; i--) {
        double v = a[i];
        for (int j = i + 1; j < k; j++)
            v -= SY(i, j) * t[j];
        t[i] = v / SY(i, i);
    }
    /* z = (D + gamma Y^T Y) t - b */
    for (int i = 0; i < k; i++) {
        double v = SY(i, i) * t[i] - b[i];
        for (int j = 0; j < k; j++)
            v += gamma * YY(i, j) * t[j];
        z[i] = v;
    }
    /* w1 = R^-T z */
    for (int i = 0; i < k; i++) {
        double v = z[i];
        for (int j = 0; j < i; j++)
            v -= SY(j, i) * w1[j];
        w1[i] = v / SY(i, i);
    }
#undef SY
#undef YY
    /* d = -gamma g - S w1 + gamma Y t */
    double cs[NS_MAX_HISTORY] = {0}, cy[NS_MAX_HISTORY] = {0};
    for (int c = 0; c < k; c++) {
        cs[ring(o, c)] = -w1[c];
        cy[ring(o, c)] = gamma * t[c];
    }
    ops->lincomb(be, d, (float) -gamma, g, NS_BUFS(o->s), f, cs, o->n);
    ops->lincomb(be, d, 1.0f, d, NS_BUFS(o->y), f, cy, o->n);
    return NS_STATUS_OK;
}

/* Stores s = t d, y = gt - g as the newest pair when its curvature is
 * positive; updates the s.y and y.y tables. */
static enum ns_status push_pair(struct ns_optim *o) {
    const struct ns_backend_ops *ops = o->be->ops;
    struct ns_backend *be = o->be;
    int h = o->hist, slot;
    if (o->k < h) {
        slot = ring(o, o->k);
    } else {
        slot = o->head;
        o->head = (o->head + 1) % h;
        o->k--;
    }
    struct ns_buf *s = o->s[slot], *y = o->y[slot];
    ops->lincomb(be, s, (float) o->t, o->d, NULL, 0, NULL, o->n);
    double minus1 = -1.0;
    ops->lincomb(be, y, 1.0f, o->gt, NS_BUFS(&o->g), 1, &minus1, o->n);
    int f = filled(o) > slot + 1 ? filled(o) : slot + 1;
    double sy[NS_MAX_HISTORY], yy[NS_MAX_HISTORY];
    enum ns_status st = read_pairs_dots(o, y, f, sy, yy);
    if (st) return st;
    if (!(sy[slot] > 1e-10 * yy[slot]) || !(yy[slot] > 0) || !isfinite(sy[slot])) {
        /* no positive curvature along s: skip the pair (its slot stays free) */
        return NS_STATUS_OK;
    }
    for (int c = 0; c < o->k; c++) {
        int r = ring(o, c);
        o->sy[(size_t) r * h + slot] = sy[r]; /* s_r . y_new */
        o->yy[(size_t) r * h + slot] = yy[r];
        o->yy[(size_t) slot * h + r] = yy[r];
    }
    o->sy[(size_t) slot * h + slot] = sy[slot];
    o->yy[(size_t) slot * h + slot] = yy[slot];
    o->k++;
    return NS_STATUS_OK;
}

/* gd = g . d and dd = d . d, read together. */
static enum ns_status slope_and_length(struct ns_optim *o) {
    double v[2];
    o->be->ops->dots(o->be, NS_BUFS(&o->g), 1, o->d, o->n, SLOT_MISC);
    o->be->ops->dots(o->be, NS_BUFS(&o->d), 1, o->d, o->n, SLOT_MISC + 1);
    enum ns_status st = o->be->ops->read_scalars(o->be, SLOT_MISC, 2, v);
    o->gd = v[0], o->dd = v[1];
    return st;
}

static enum ns_status lbfgs_step(struct ns_optim *o) {
    const struct ns_backend_ops *ops = o->be->ops;
    struct ns_backend *be = o->be;
    enum ns_status st;
    if (!o->have_dir) {
        st = ns_lbfgs_direction(o, o->g, o->d);
        if (!st) st = slope_and_length(o);
        if (st) return st;
        if (!(o->gd < 0)) { /* not a descent direction: forget the history */
            o->k = o->head = 0;
            ops->lincomb(be, o->d, -1.0f, o->g, NULL, 0, NULL, o->n);
            if ((st = slope_and_length(o))) return st;
            if (!(o->gd < 0)) {
                o->converged = true; /* zero gradient */
                return NS_STATUS_OK;
            }
        }
        /* steepest descent starts with an RMS pixel change of 0.01 */
        o->t = o->k == 0 ? 0.01 * sqrt((double) o->n / o->dd) : 1.0;
        o->have_dir = true;
    }
    double t = o->t;
    ops->lincomb(be, o->xt, 1.0f, o->x, NS_BUFS(&o->d), 1, &t, o->n);
    struct ns_terms ft;
    if ((st = o->eval(o->ud, o->xt, o->gt, &ft))) return st;
    o->evals++;
    if (isfinite(ft.loss) && ft.loss <= o->fx.loss + ARMIJO_C1 * t * o->gd) {
        if ((st = push_pair(o))) return st;
        struct ns_buf *p = o->x;
        o->x = o->xt, o->xt = p;
        p = o->g, o->g = o->gt, o->gt = p;
        o->fx = ft;
        o->have_dir = false;
        return NS_STATUS_OK;
    }
    /* backtrack: minimiser of the quadratic through f(0), f'(0), f(t) */
    double tn = 0.1 * t;
    if (isfinite(ft.loss)) {
        double den = 2.0 * (ft.loss - o->fx.loss - o->gd * t);
        if (den > 0) tn = -o->gd * t * t / den;
        if (tn < 0.1 * t) tn = 0.1 * t;
        if (tn > 0.5 * t) tn = 0.5 * t;
    }
    o->t = tn;
    if (tn * sqrt(o->dd / (double) o->n) < 1e-9) { /* the step is below float resolution */
        if (o->k == 0) {
            o->converged = true;
        } else {
            o->k = o->head = 0;
            o->have_dir = false;
        }
    }
    return NS_STATUS_OK;
}

static enum ns_status adam_step(struct ns_optim *o) {
    o->be->ops->adam(o->be, o->x, o->g, o->m, o->v, o->n, o->lr, o->beta1, o->beta2, o->eps, o->evals + 1);
    enum ns_status st = o->eval(o->ud, o->x, o->g, &o->fx);
    if (st) return st;
    o->evals++;
    return isfinite(o->fx.loss) ? NS_STATUS_OK : NS_STATUS_NUMERIC_ERROR;
}

enum ns_status ns_optim_step(struct ns_optim *o) {
    if (o->converged) return NS_STATUS_OK;
    return o->kind == NS_OPTIMIZER_ADAM ? adam_step(o) : lbfgs_step(o);
}

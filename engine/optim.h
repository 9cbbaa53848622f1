/* optim.h - L-BFGS and Adam over the backend's vector operations.
 *
 * Each ns_optim_step() costs exactly one evaluation of the objective, so
 * "iterations" means evaluations for both optimisers and timings compare.
 */
#ifndef NS_OPTIM_H
#define NS_OPTIM_H

#include "objective.h"

typedef enum ns_status (*ns_eval_fn)(void *ud, const struct ns_buf *x, struct ns_buf *grad,
                                     struct ns_terms *terms);

struct ns_optim {
    struct ns_backend *be;
    enum ns_optimizer kind;
    size_t n;
    ns_eval_fn eval;
    void *ud;
    int evals;
    bool converged;

    struct ns_buf *x, *g; /* current (best) point and its gradient */
    struct ns_terms fx;

    /* Adam */
    float lr, beta1, beta2, eps;
    struct ns_buf *m, *v;

    /* L-BFGS, compact form (Byrd, Nocedal & Schnabel 1994) */
    int hist;                   /* capacity */
    int k;                      /* pairs stored */
    int head;                   /* ring slot of the oldest pair */
    struct ns_buf **s, **y;     /* hist vectors each */
    struct ns_buf *d, *xt, *gt; /* direction, trial point and its gradient */
    double *sy, *yy;            /* hist x hist: s_i.y_j, y_i.y_j by ring slot */
    double t, gd, dd;           /* step length, g.d and d.d for the pending trial */
    bool have_dir;
};


enum ns_status ns_optim_init(struct ns_optim *o, struct ns_backend *be, enum ns_optimizer kind, size_t n,
                             float lr, int history, ns_eval_fn eval, void *ud);
void ns_optim_release(struct ns_optim *o);
/* Evaluates the start point x0 (copied in): iteration 0. */
enum ns_status ns_optim_start(struct ns_optim *o, const struct ns_buf *x0);
/* One evaluation; o->x and o->fx are the best point so far (L-BFGS) or the
 * latest iterate (Adam). */
enum ns_status ns_optim_step(struct ns_optim *o);

/* For tests: the L-BFGS direction -H g of the stored pairs, written to d. */
enum ns_status ns_lbfgs_direction(struct ns_optim *o, const struct ns_buf *g, struct ns_buf *d);

#endif /* NS_OPTIM_H */

/* test_style_model.h - a TransformerNet with random weights whose output
 * spans about 0..255 (test_stylize, test_cuda). */
#ifndef NS_TEST_STYLE_MODEL_H
#define NS_TEST_STYLE_MODEL_H

#include "ffnet.h"
#include "testlib.h"

static inline struct ns_style_model *test_style_model(void) {
    struct ns_style_model *m = calloc(1, sizeof *m);
    m->arch = ns_ff_arch_find("transformer-net");
    for (int i = 0; i < m->arch->n_steps; i++)
        for (int part = 0; part < 2; part++) {
            int64_t shape[4];
            int rank = ns_ff_param_shape(&m->arch->steps[i], part, shape);
            if (!rank) continue;
            size_t n = 1;
            for (int d = 0; d < rank; d++)
                n *= (size_t) shape[d];
            m->param[i][part] = falloc(n);
            const struct ns_ff_step *s = &m->arch->steps[i];
            double fan = s->kind == NS_FF_CONV ? (double) s->cin * s->k * s->k : 1;
            if (s->kind == NS_FF_NORM)
                fill_uniform(m->param[i][part], n, part ? -0.2 : 0.8, part ? 0.2 : 1.2);
            else if (i == m->arch->n_steps - 1) /* the last conv: about 128 +- 60 */
                fill_uniform(m->param[i][part], n, part ? 100 : -60 / sqrt(fan), part ? 150 : 60 / sqrt(fan));
            else
                fill_uniform(m->param[i][part], n, -1 / sqrt(fan), 1 / sqrt(fan));
        }
    ns_style_model_set_info(m, "architecture", "transformer-net");
    ns_style_model_set_info(m, "name", "Test \"random\" style");
    ns_style_model_set_info(m, "license", "CC0");
    return m;
}

#endif /* NS_TEST_STYLE_MODEL_H */

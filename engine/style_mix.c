/* style_mix.c - models of several styles (Dumoulin et al. 2017's
 * conditional instance norm): one style taken out, or several blended.
 *
 * The styles share every convolution and differ only in their norms'
 * scales and shifts.  A blend mixes those (gamma = sum w_k gamma_k, beta
 * likewise), which the paper shows gives a style between them, not a
 * cross-fade of two results.  The blend is an ordinary one-style model, so
 * every path that runs a network (in memory, in bands, on CUDA) runs it
 * unchanged.
 */
#include "ffnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ns_style_model_styles(const struct ns_style_model *m) {
    return m && m->n_styles > 1 ? m->n_styles : 1;
}

char *ns_style_model_style_name(const struct ns_style_model *m, int k) {
    const char *v = ns_style_model_info(m, "style_names");
    for (int i = 0; v && i < k; i++)
        if ((v = strchr(v, '\n'))) v++;
    if (!v || k < 0 || k >= ns_style_model_styles(m)) return NULL;
    size_t n = strcspn(v, "\n");
    char *out = malloc(n + 1);
    if (out) memcpy(out, v, n), out[n] = '\0';
    return out;
}

enum ns_status ns_style_model_mix(const struct ns_style_model *m, const float *mix, int n,
                                  struct ns_style_model **out) {
    int styles = ns_style_model_styles(m);
    double sum = 0;
    *out = NULL;
    for (int k = 0; mix && k < n; k++) {
        if (!(mix[k] >= 0) || !isfinite(mix[k])) return NS_STATUS_INVALID_ARGUMENT;
        sum += mix[k];
    }
    if (mix && (n != styles || !(sum > 0))) return NS_STATUS_INVALID_ARGUMENT;
    struct ns_style_model *b = calloc(1, sizeof *b);
    if (!b) return NS_STATUS_OUT_OF_MEMORY;
    b->arch = m->arch, b->n_styles = 1;
    enum ns_status st = NS_STATUS_OK;
    for (int i = 0; i < m->arch->n_steps && !st; i++)
        for (int part = 0; part < 2 && !st; part++) {
            size_t c = ns_ff_param_count(&m->arch->steps[i], part);
            if (!c) continue;
            if (!(b->param[i][part] = malloc(sizeof(float) * c))) {
                st = NS_STATUS_OUT_OF_MEMORY;
                break;
            }
            if (m->arch->steps[i].kind != NS_FF_NORM || styles == 1 || !mix) { /* shared, or the first style */
                memcpy(b->param[i][part], m->param[i][part], sizeof(float) * c);
                continue;
            }
            for (size_t j = 0; j < c; j++) {
                double v = 0;
                for (int k = 0; k < styles; k++)
                    v += mix[k] / sum * m->param[i][part][(size_t) k * c + j];
                b->param[i][part][j] = (float) v;
            }
        }
    for (int i = 0; i < m->n_info && !st; i++)
        st = ns_style_model_set_info(b, m->info_key[i], m->info_value[i]);
    if (st) {
        ns_style_model_free(b);
        return st;
    }
    *out = b;
    return NS_STATUS_OK;
}

enum ns_status ns_style_mix_parse(const struct ns_style_model *m, const char *spec, float *mix, char *err,
                                  size_t err_len) {
    int styles = ns_style_model_styles(m), n = 0;
    double sum = 0;
    const char *p = spec ? spec : "";
    while (*p && n <= styles) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v >= 0) || !isfinite(v) || (*end && *end != ',')) {
            snprintf(err, err_len, "'%s': give the styles' weights as numbers, such as 1,3", spec);
            return NS_STATUS_INVALID_ARGUMENT;
        }
        if (n < styles) mix[n] = (float) v;
        n++, sum += v;
        p = *end ? end + 1 : end;
    }
    if (n != styles) {
        snprintf(err, err_len, "'%s' gives %d weight%s; this model holds %d style%s", spec, n, n == 1 ? "" : "s",
                 styles, styles == 1 ? "" : "s");
        return NS_STATUS_INVALID_ARGUMENT;
    }
    if (!(sum > 0)) {
        snprintf(err, err_len, "'%s': at least one weight must be above 0", spec);
        return NS_STATUS_INVALID_ARGUMENT;
    }
    return NS_STATUS_OK;
}

/* test_settings.c - the table of settings: every row sound, parsing with
 * messages that name the flag, and presets recognised through it. */
#include "ns.h"
#include "testlib.h"

#include <float.h>
#include <math.h>

#define OK(cond) CHECK(cond, "%s", #cond)

int main(void) {
    int n;
    const struct ns_setting *t = ns_settings(&n);
    struct ns_params d = ns_params_default();
    OK(n >= 20);
    for (int i = 0; i < n; i++) {
        const struct ns_setting *s = &t[i];
        CHECK(s->offset < sizeof(struct ns_params), "%s: offset", s->name);
        CHECK(s->label && s->help && s->name[0], "%s: label and help", s->name);
        CHECK(ns_setting_find(s->name) == s, "%s: found by name", s->name);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(t[j].name, s->name), "%s: one row", s->name);
        if (s->type == NS_SETTING_CHOICE) {
            int k = 0;
            while (s->choices[k])
                k++;
            CHECK(k == (int) s->max + 1 && s->min == 0, "%s: %d choices, range 0..%g", s->name, k, s->max);
        }
        if (s->type == NS_SETTING_INT || s->type == NS_SETTING_FLOAT || s->type == NS_SETTING_DOUBLE ||
            s->type == NS_SETTING_CHOICE) {
            double v = ns_setting_get(s, &d);
            CHECK(v <= s->max && (s->min_excluded ? v > s->min : v >= s->min), "%s: default %g in range",
                  s->name, v);
        }
    }
    OK(ns_setting_find("--style-weight") == ns_setting_find("style-weight"));
    OK(ns_setting_find("no-such") == NULL);

    char err[300];
    struct ns_params p = ns_params_default();
    OK(ns_setting_parse(ns_setting_find("style-weight"), "250", &p, err, sizeof err) == NS_STATUS_OK &&
       p.style_weight == 250.0f);
    OK(ns_setting_parse(ns_setting_find("style-weight"), "-1", &p, err, sizeof err) &&
       !strcmp(err, "--style-weight: '-1' is not a number, 0 or more") && p.style_weight == 250.0f);
    OK(ns_setting_parse(ns_setting_find("iterations"), "200000", &p, err, sizeof err) &&
       !strcmp(err, "--iterations: '200000' is not a whole number from 0 to 100000"));
    OK(ns_setting_parse(ns_setting_find("iterations"), "12x", &p, err, sizeof err) && strstr(err, "--iterations"));
    OK(ns_setting_parse(ns_setting_find("learning-rate"), "0", &p, err, sizeof err) &&
       strstr(err, "more than 0"));
    OK(ns_setting_parse(ns_setting_find("pooling"), "avg", &p, err, sizeof err) == NS_STATUS_OK &&
       p.pooling == NS_POOLING_AVG);
    OK(ns_setting_parse(ns_setting_find("pooling"), "min", &p, err, sizeof err) &&
       !strcmp(err, "--pooling: 'min' is not one of max, avg"));
    OK(ns_setting_parse(ns_setting_find("max-memory"), "2.5", &p, err, sizeof err) == NS_STATUS_OK &&
       p.max_memory == 2.5e9 && ns_setting_get(ns_setting_find("max-memory"), &p) == 2.5);
    OK(ns_setting_parse(ns_setting_find("correlation-chain"), "true", &p, err, sizeof err) == NS_STATUS_OK &&
       p.correlation_chain);
    OK(ns_setting_parse(ns_setting_find("seed"), "18446744073709551615", &p, err, sizeof err) == NS_STATUS_OK &&
       p.seed == UINT64_MAX);
    OK(ns_setting_parse(ns_setting_find("seed"), "-1", &p, err, sizeof err) && strstr(err, "--seed"));
    OK(ns_setting_parse(ns_setting_find("style-layers"), "all", &p, err, sizeof err) == NS_STATUS_OK &&
       !strcmp(p.style_layers, "all"));
    OK(ns_setting_parse(ns_setting_find("activation-shift"), "nan", &p, err, sizeof err));

    /* presets are recognised through the table's preset rows */
    for (const char *const *name = ns_preset_names(); *name; name++) {
        struct ns_params q = ns_params_default();
        ns_params_preset(&q, *name);
        const char *got = ns_params_preset_of(&q);
        struct ns_params r = ns_params_default();
        if (got) ns_params_preset(&r, got);
        CHECK(got && ns_params_preset_of(&r) == got, "preset %s recognised (as %s)", *name, got ? got : "none");
        /* fields every preset sets one of, changed: none */
        q.activation_shift = 0.5f, q.style_weight = 12345.0f;
        q.pooling = q.pooling == NS_POOLING_AVG ? NS_POOLING_MAX : NS_POOLING_AVG;
        CHECK(ns_params_preset_of(&q) == NULL, "preset %s changed: none", *name);
    }
    struct ns_params q = ns_params_default();
    ns_params_preset(&q, "improved");
    OK(!strcmp(ns_params_preset_of(&q), "improved"));
    q.threads = 1; /* not a preset's field */
    OK(!strcmp(ns_params_preset_of(&q), "improved"));
    q.content_layers = ""; /* improved's relu5_2 fallen back to the file's default */
    OK(!strcmp(ns_params_preset_of(&q), "improved"));
    q.style_layers = "relu1_1";
    OK(ns_params_preset_of(&q) == NULL);
    return test_summary("settings");
}

/* test_colors.c - colour matching: the painting takes the photo's colour
 * mean and covariance; flat paintings, alpha and strides. */
#include "image.h"
#include "testlib.h"

static void stats(const struct ns_image *im, double mu[3], double cov[3][3]) {
    double n = (double) im->width * im->height;
    memset(mu, 0, 3 * sizeof(double));
    memset(cov, 0, 9 * sizeof(double));
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++)
            for (int i = 0; i < 3; i++)
                mu[i] += im->data[(size_t) y * im->stride + x * im->channels + i] / n;
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++) {
            const float *p = im->data + (size_t) y * im->stride + x * im->channels;
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    cov[i][j] += (p[i] - mu[i]) * (p[j] - mu[j]) / n;
        }
}

/* Correlated colours around `base` with a small spread, so nothing clamps. */
static struct ns_image make(int w, int h, int ch, int pad, const float base[3], const float mix[3][3]) {
    struct ns_image im = {falloc((size_t) (w * ch + pad) * h), w, h, ch, w * ch + pad};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float *p = im.data + (size_t) y * im.stride + x * ch;
            double z[3] = {rnd_normal(), rnd_normal(), rnd_normal()};
            for (int i = 0; i < 3; i++)
                p[i] = (float) (base[i] + 0.04 * (mix[i][0] * z[0] + mix[i][1] * z[1] + mix[i][2] * z[2]));
            if (ch == 4) p[3] = 0.25f;
        }
    return im;
}

int main(void) {
    const float warm[3] = {0.6f, 0.45f, 0.3f}, cool[3] = {0.3f, 0.45f, 0.6f};
    const float m1[3][3] = {{1, 0.5f, 0}, {0.2f, 1, 0.3f}, {0, 0.4f, 1}},
                m2[3][3] = {{0.5f, 0, 0.2f}, {0.6f, 0.8f, 0}, {0.1f, 0.1f, 0.9f}};
    struct ns_image photo = make(37, 23, 3, 0, warm, m1), painting = make(50, 41, 4, 5, cool, m2);
    CHECK(ns_match_colors(&photo, &painting) == NS_STATUS_OK, "match");
    double mp[3], cp[3][3], mq[3], cq[3][3];
    stats(&photo, mp, cp);
    stats(&painting, mq, cq);
    double worst = 0;
    for (int i = 0; i < 3; i++) {
        worst = fmax(worst, fabs(mp[i] - mq[i]));
        for (int j = 0; j < 3; j++)
            worst = fmax(worst, fabs(cp[i][j] - cq[i][j]));
    }
    CHECK(worst < 1e-5, "matched mean and covariance differ from the photo's by %.2e", worst);
    bool untouched = true;
    for (int y = 0; y < painting.height; y++) {
        for (int x = 0; x < painting.width; x++)
            untouched &= painting.data[(size_t) y * painting.stride + x * 4 + 3] == 0.25f;
        for (int k = 0; k < 5; k++) /* the stride's padding */
            untouched &= painting.data[(size_t) y * painting.stride + painting.width * 4 + k] == 0.0f;
    }
    CHECK(untouched, "alpha and the stride's padding are left alone");

    /* a flat grey painting: no NaN, it becomes the photo's mean colour */
    struct ns_image flat = {falloc(3 * 16), 4, 4, 3, 12};
    for (int i = 0; i < 48; i++)
        flat.data[i] = 0.5f;
    CHECK(ns_match_colors(&photo, &flat) == NS_STATUS_OK, "flat");
    for (int i = 0; i < 48; i++)
        CHECK(isfinite(flat.data[i]) && fabs(flat.data[i] - mp[i % 3]) < 1e-5, "flat pixel %d: %g, mean %g", i,
              flat.data[i], mp[i % 3]);

    struct ns_image bad = photo;
    bad.channels = 2;
    CHECK(ns_match_colors(&photo, &bad) == NS_STATUS_INVALID_ARGUMENT, "two channels are refused");
    CHECK(ns_match_colors(NULL, &painting) == NS_STATUS_INVALID_ARGUMENT, "no photo is refused");
    bad = photo, bad.stride = 5;
    CHECK(ns_match_colors(&bad, &painting) == NS_STATUS_INVALID_ARGUMENT, "a short stride is refused");
    free(photo.data), free(painting.data), free(flat.data);
    return test_summary("test_colors");
}

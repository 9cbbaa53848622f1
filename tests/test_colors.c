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

/* Largest difference between two images' colour means and covariances. */
static double stats_diff(const struct ns_image *a, const struct ns_image *b) {
    double ma[3], ca[3][3], mb[3], cb[3][3], worst = 0;
    stats(a, ma, ca);
    stats(b, mb, cb);
    for (int i = 0; i < 3; i++) {
        worst = fmax(worst, fabs(ma[i] - mb[i]));
        for (int j = 0; j < 3; j++)
            worst = fmax(worst, fabs(ca[i][j] - cb[i][j]));
    }
    return worst;
}

static bool same(const struct ns_image *im, const float *copy) {
    return !memcmp(im->data, copy, sizeof(float) * im->stride * im->height);
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

    /* the roles the other way round: a padded RGBA photo, a padded RGB painting */
    struct ns_image photo4 = make(29, 31, 4, 3, cool, m2), painting3 = make(40, 17, 3, 2, warm, m1);
    float *photo4_copy = falloc((size_t) photo4.stride * photo4.height);
    memcpy(photo4_copy, photo4.data, sizeof(float) * photo4.stride * photo4.height);
    CHECK(ns_match_colors(&photo4, &painting3) == NS_STATUS_OK, "match RGBA onto RGB");
    worst = stats_diff(&photo4, &painting3);
    CHECK(worst < 1e-5, "RGBA photo, RGB painting: statistics differ by %.2e", worst);
    CHECK(same(&photo4, photo4_copy), "the photo is left alone");
    untouched = true;
    for (int y = 0; y < painting3.height; y++)
        for (int k = 0; k < 2; k++)
            untouched &= painting3.data[(size_t) y * painting3.stride + painting3.width * 3 + k] == 0.0f;
    CHECK(untouched, "an RGB painting's stride padding is left alone");

    /* a flat photo: the painting becomes flat, in its colour */
    struct ns_image flat_photo = {falloc(3 * 6), 3, 2, 3, 9}, copy = make(12, 9, 3, 0, cool, m2);
    for (int i = 0; i < 18; i++)
        flat_photo.data[i] = (float[3]){0.2f, 0.7f, 0.4f}[i % 3];
    CHECK(ns_match_colors(&flat_photo, &copy) == NS_STATUS_OK, "flat photo");
    double worst_flat = 0;
    for (int i = 0; i < 12 * 9 * 3; i++)
        worst_flat = fmax(worst_flat, fabs(copy.data[i] - flat_photo.data[i % 3]));
    CHECK(worst_flat < 1e-6, "a flat photo gives a flat painting (off by %.2e)", worst_flat);

    /* a grey-scale painting (a rank-one covariance): finite, in range, the photo's mean */
    struct ns_image grey = make(20, 20, 3, 0, warm, m1);
    for (int i = 0; i < 400; i++)
        grey.data[3 * i + 1] = grey.data[3 * i + 2] = grey.data[3 * i];
    CHECK(ns_match_colors(&photo, &grey) == NS_STATUS_OK, "grey painting");
    CHECK(all_finite(grey.data, 1200), "a grey painting stays finite");
    double mg[3], cg[3][3];
    stats(&grey, mg, cg);
    for (int i = 0; i < 3; i++)
        CHECK(fabs(mg[i] - mp[i]) < 1e-5, "grey painting: mean %d is %g, the photo's %g", i, mg[i], mp[i]);

    /* refusals leave the painting as it was */
    float *before = falloc((size_t) painting.stride * painting.height);
    memcpy(before, painting.data, sizeof(float) * painting.stride * painting.height);
    struct ns_image bad = painting;
    bad.channels = 2;
    CHECK(ns_match_colors(&photo, &bad) == NS_STATUS_INVALID_ARGUMENT, "two channels are refused");
    bad = painting, bad.channels = 5;
    CHECK(ns_match_colors(&photo, &bad) == NS_STATUS_INVALID_ARGUMENT, "five channels are refused");
    CHECK(ns_match_colors(NULL, &painting) == NS_STATUS_INVALID_ARGUMENT, "no photo is refused");
    CHECK(ns_match_colors(&photo, NULL) == NS_STATUS_INVALID_ARGUMENT, "no painting is refused");
    bad = photo, bad.stride = 5;
    CHECK(ns_match_colors(&bad, &painting) == NS_STATUS_INVALID_ARGUMENT, "a short stride is refused");
    bad = photo, bad.width = 0;
    CHECK(ns_match_colors(&bad, &painting) == NS_STATUS_INVALID_ARGUMENT, "an empty photo is refused");
    bad = photo, bad.data = NULL;
    CHECK(ns_match_colors(&bad, &painting) == NS_STATUS_INVALID_ARGUMENT, "a photo without pixels is refused");
    float keep = photo.data[7];
    photo.data[7] = NAN;
    CHECK(ns_match_colors(&photo, &painting) == NS_STATUS_INVALID_ARGUMENT, "a NaN in the photo is refused");
    photo.data[7] = keep;
    CHECK(same(&painting, before), "refused calls leave the painting untouched");

    free(photo.data), free(painting.data), free(flat.data), free(photo4.data), free(painting3.data);
    free(photo4_copy), free(flat_photo.data), free(copy.data), free(grey.data), free(before);
    return test_summary("test_colors");
}

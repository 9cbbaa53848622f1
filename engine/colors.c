/* colors.c - colour matching (Gatys et al. 2017, "Controlling Perceptual
 * Factors in Neural Style Transfer"): the painting's pixels x become
 * A (x - mu_s) + mu_c, A = Sigma_c^(1/2) Sigma_s^(-1/2), so that their mean
 * and covariance are the photo's.
 *
 * It works in the images' own gamma-encoded R'G'B': the style loss compares
 * statistics of features computed from exactly these values, so matching
 * here makes the colour statistics the network sees the photo's (Gatys et
 * al. matched in RGB too).  The result is clamped to 0..1, as a painting's
 * pixels are; for extreme pairs that moves the statistics slightly.
 */
#include "image.h"

#include <math.h>
#include <string.h>

/* Mean and covariance of an image's first three channels, in double. */
static void color_stats(const struct ns_image *im, double mu[3], double cov[3][3]) {
    double s[3] = {0}, ss[3][3] = {{0}}, n = (double) im->width * im->height;
    for (int y = 0; y < im->height; y++) {
        const float *row = im->data + (size_t) y * im->stride;
        for (int x = 0; x < im->width; x++) {
            const float *p = row + (size_t) x * im->channels;
            for (int i = 0; i < 3; i++) {
                s[i] += p[i];
                for (int j = 0; j < 3; j++)
                    ss[i][j] += (double) p[i] * p[j];
            }
        }
    }
    for (int i = 0; i < 3; i++)
        mu[i] = s[i] / n;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            cov[i][j] = ss[i][j] / n - mu[i] * mu[j];
}

/* Eigen decomposition of a symmetric 3x3 by Jacobi rotations: a = v diag(e) v^T. */
static void eigen3(const double a_in[3][3], double e[3], double v[3][3]) {
    double a[3][3];
    memcpy(a, a_in, sizeof a);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            v[i][j] = i == j;
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]);
        if (off < 1e-300) break;
        for (int p = 0; p < 2; p++)
            for (int q = p + 1; q < 3; q++) {
                if (fabs(a[p][q]) < 1e-300) continue;
                double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < 3; k++) { /* a = J^T a J */
                    double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq, a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 3; k++) {
                    double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk, a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 3; k++) {
                    double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq, v[k][q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < 3; i++)
        e[i] = a[i][i];
}

/* m^power for a symmetric positive semi-definite m, eigenvalues floored at
 * `lo`: 1e-6 for the inverse root, so that a flat painting (no spread)
 * gives a finite map; 0 for the root, so that a flat photo gives a flat
 * result (and rounding's tiny negative eigenvalues no NaN). */
static void sym_power(const double m[3][3], double power, double lo, double out[3][3]) {
    double e[3], v[3][3];
    eigen3(m, e, v);
    for (int i = 0; i < 3; i++)
        e[i] = pow(e[i] > lo ? e[i] : lo, power);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++)
                s += v[i][k] * e[k] * v[j][k];
            out[i][j] = s;
        }
}

enum ns_status ns_match_colors(const struct ns_image *photo, struct ns_image *painting) {
    const struct ns_image *ims[2] = {photo, painting};
    for (int k = 0; k < 2; k++)
        if (!ims[k] || !ims[k]->data || ims[k]->width < 1 || ims[k]->height < 1 || ims[k]->channels < 3 ||
            ims[k]->channels > 4 || ims[k]->stride < ims[k]->width * ims[k]->channels)
            return NS_STATUS_INVALID_ARGUMENT;
    double mc[3], cc[3][3], ms[3], cs[3][3], root[3][3], inv_root[3][3], a[3][3];
    color_stats(photo, mc, cc);
    color_stats(painting, ms, cs);
    for (int i = 0; i < 3; i++) /* a NaN or Inf pixel would spread to every pixel: refuse, untouched */
        for (int j = 0; j < 3; j++)
            if (!isfinite(mc[i] + cc[i][j] + ms[i] + cs[i][j])) return NS_STATUS_INVALID_ARGUMENT;
    sym_power(cc, 0.5, 0.0, root);
    sym_power(cs, -0.5, 1e-6, inv_root);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            a[i][j] = 0;
            for (int k = 0; k < 3; k++)
                a[i][j] += root[i][k] * inv_root[k][j];
        }
    for (int y = 0; y < painting->height; y++) {
        float *row = painting->data + (size_t) y * painting->stride;
        for (int x = 0; x < painting->width; x++) {
            float *p = row + (size_t) x * painting->channels;
            double d[3] = {p[0] - ms[0], p[1] - ms[1], p[2] - ms[2]};
            for (int i = 0; i < 3; i++) {
                double v = mc[i] + a[i][0] * d[0] + a[i][1] * d[1] + a[i][2] * d[2];
                p[i] = (float) (v < 0 ? 0 : v > 1 ? 1 : v);
            }
        }
    }
    return NS_STATUS_OK;
}

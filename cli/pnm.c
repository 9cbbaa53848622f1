/* pnm.c - binary PPM (P6) and PGM (P5), 8 or 16 bits (big-endian, as
 * Netpbm defines them): a header of four numbers, then the samples. */
#include "image_io.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The next number of the header, skipping space and # comments; -1 when
 * there is none or it is out of range. */
static long header_number(FILE *f) {
    int ch;
    for (;;) {
        ch = getc(f);
        if (ch == '#')
            while (ch != '\n' && ch != EOF)
                ch = getc(f);
        else if (!isspace(ch))
            break;
    }
    long v = 0;
    if (!isdigit(ch)) return -1;
    while (isdigit(ch)) {
        v = v * 10 + (ch - '0');
        if (v > 0x7fffffff) return -1;
        ch = getc(f);
    }
    return isspace(ch) ? v : -1; /* one space ends the header's last number */
}

bool io_pnm_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len) {
    char magic[2];
    if (fread(magic, 1, 2, f) != 2) goto bad;
    bool color = magic[1] == '6';
    long w = header_number(f), h = header_number(f), maxval = header_number(f);
    if (w < 1 || h < 1 || w > 0xffffff || h > 0xffffff || maxval < 1 || maxval > 65535) goto bad;
    if (!io_alloc(out, path, (int) w, (int) h, false, err, err_len)) return false;
    bool wide = maxval > 255;
    out->depth = wide ? IO_DEPTH_U16 : IO_DEPTH_U8;
    int c = color ? 3 : 1;
    size_t row_bytes = (size_t) w * c * (wide ? 2 : 1);
    float *row = g_try_malloc(w * c * sizeof(float));
    unsigned char *raw = g_try_malloc(row_bytes);
    bool ok = row && raw;
    for (long y = 0; ok && y < h; y++) {
        if (fread(raw, 1, row_bytes, f) != row_bytes) {
            snprintf(err, err_len, "cannot read '%s': the file ends before the image does (cut short?)", path);
            ok = false;
            break;
        }
        for (long i = 0; i < w * c; i++)
            row[i] = (wide ? (raw[2 * i] << 8 | raw[2 * i + 1]) : raw[i]) / (float) maxval;
        io_put_row(out, babl_format(color ? "R'G'B' float" : "Y' float"), row, (int) y);
    }
    if (!row || !raw) snprintf(err, err_len, "'%s' is too large for the memory there is", path);
    g_free(row), g_free(raw);
    return ok;
bad:
    snprintf(err, err_len, "cannot read '%s': not a readable PPM (a bad header)", path);
    return false;
}

bool io_pnm_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len) {
    bool wide = px->depth == IO_DEPTH_U16;
    char header[64];
    int n = snprintf(header, sizeof header, "P6\n%d %d\n%d\n", px->width, px->height, wide ? 65535 : 255);
    g_byte_array_append(out, (const guint8 *) header, (guint) n);
    size_t samples = (size_t) px->width * px->height * 3;
    if (!wide) {
        g_byte_array_append(out, px->data, (guint) samples);
        return true;
    }
    const uint16_t *s = px->data;
    guint start = out->len;
    g_byte_array_set_size(out, (guint) (start + samples * 2));
    for (size_t i = 0; i < samples; i++)
        out->data[start + 2 * i] = (guint8) (s[i] >> 8), out->data[start + 2 * i + 1] = (guint8) s[i];
    (void) why, (void) why_len;
    return true;
}

/* png.c - PNG files through libpng with setjmp error handling: a CRC error,
 * a file cut short or a bad chunk is a sentence, never a partial picture.
 * 8 and 16 bits, grey, palette and alpha; an ICC profile is honoured. */
#include "image_io.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

struct png_failure {
    char why[200];
};

static void on_error(png_structp png, png_const_charp msg) {
    struct png_failure *e = png_get_error_ptr(png);
    snprintf(e->why, sizeof e->why, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    (void) png, (void) msg; /* benign: an unknown chunk, an sRGB profile's details */
}

/* The babl format of the rows libpng hands out, in the file's colour space. */
static const Babl *row_format(png_structp png, png_infop info, bool alpha, bool wide) {
    png_charp name;
    int compression;
    png_bytep icc;
    png_uint_32 len;
    const Babl *space = NULL;
    if (png_get_iCCP(png, info, &name, &compression, &icc, &len)) {
        const char *why = NULL;
        space = babl_space_from_icc((const char *) icc, (int) len, BABL_ICC_INTENT_RELATIVE_COLORIMETRIC, &why);
    }
    const char *enc = alpha ? (wide ? "R'G'B'A u16" : "R'G'B'A u8") : (wide ? "R'G'B' u16" : "R'G'B' u8");
    return space ? babl_format_with_space(enc, space) : babl_format(enc);
}

bool io_png_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len) {
    struct png_failure e = {""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &e, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    unsigned char *volatile row = NULL;
    volatile bool ok = false;
    if (!info) {
        snprintf(err, err_len, "cannot read '%s': not enough memory", path);
        goto out;
    }
    if (setjmp(png_jmpbuf(png))) {
        if (feof(f))
            snprintf(err, err_len, "cannot read '%s': the file ends before the image does (cut short?)", path);
        else
            snprintf(err, err_len, "cannot read '%s': not a readable PNG (%s)", path, e.why);
        goto out;
    }
    png_init_io(png, f);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    int w = (int) png_get_image_width(png, info), h = (int) png_get_image_height(png, info);
    int type = png_get_color_type(png, info), bits = png_get_bit_depth(png, info);
    bool alpha = (type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
    bool wide = bits == 16;
    png_set_expand(png); /* palette, low-bit grey and tRNS to RGB(A) 8 */
    png_set_gray_to_rgb(png);
    if (wide) png_set_swap(png); /* host order for babl's u16 (little-endian hosts) */
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (!io_alloc(out, path, w, h, alpha, err, err_len)) goto out;
    out->depth = wide ? IO_DEPTH_U16 : IO_DEPTH_U8;
    size_t row_bytes = png_get_rowbytes(png, info);
    const Babl *format = row_format(png, info, alpha, wide);
    if (passes > 1) {
        /* interlaced: every pass writes into the whole image, so keep it whole */
        row = g_try_malloc(row_bytes * h);
        if (!row) {
            snprintf(err, err_len, "'%s' (%d x %d px) is too large for the memory there is", path, w, h);
            goto out;
        }
        for (int p = 0; p < passes; p++)
            for (int y = 0; y < h; y++)
                png_read_row(png, row + row_bytes * y, NULL);
        for (int y = 0; y < h; y++)
            io_put_row(out, format, row + row_bytes * y, y);
    } else {
        row = g_try_malloc(row_bytes);
        if (!row) {
            snprintf(err, err_len, "'%s' (%d x %d px) is too large for the memory there is", path, w, h);
            goto out;
        }
        for (int y = 0; y < h; y++) {
            png_read_row(png, row, NULL);
            io_put_row(out, format, row, y);
        }
    }
    png_read_end(png, NULL); /* the CRCs and chunks after the pixels */
    ok = true;
out:
    png_destroy_read_struct(&png, &info, NULL);
    g_free(row);
    return ok;
}

static void write_bytes(png_structp png, png_bytep data, size_t n) {
    g_byte_array_append(png_get_io_ptr(png), data, (guint) n);
}

static void flush_nothing(png_structp png) {
    (void) png;
}

bool io_png_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len) {
    struct png_failure e = {""};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    volatile bool ok = false;
    if (!info) {
        snprintf(why, why_len, "not enough memory");
        goto out;
    }
    if (setjmp(png_jmpbuf(png))) {
        snprintf(why, why_len, "%s", e.why);
        goto out;
    }
    png_set_write_fn(png, out, write_bytes, flush_nothing);
    bool wide = px->depth == IO_DEPTH_U16;
    png_set_IHDR(png, info, (png_uint_32) px->width, (png_uint_32) px->height, wide ? 16 : 8,
                 px->channels == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_sRGB_gAMA_and_cHRM(png, info, PNG_sRGB_INTENT_PERCEPTUAL);
    png_write_info(png, info);
    if (wide) png_set_swap(png);
    size_t row_bytes = (size_t) px->width * px->channels * (wide ? 2 : 1);
    for (int y = 0; y < px->height; y++)
        png_write_row(png, (png_const_bytep) px->data + row_bytes * y);
    png_write_end(png, info);
    ok = true;
out:
    png_destroy_write_struct(&png, &info);
    return ok;
}

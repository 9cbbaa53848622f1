/* jpeg.c - JPEG files through libjpeg with an error handler of our own
 * (libjpeg's default one prints and exits the process on a corrupt file).
 * babl converts the pixels from the embedded colour profile.  Saving
 * encodes into memory: libjpeg's stdio destination exits on a short write. */
#include "image_io.h"

#include <babl/babl.h>
#include <glib.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* after stdio.h, which it needs */
#include <jerror.h>

struct load_error {
    struct jpeg_error_mgr mgr;
    jmp_buf back;
    char why[JMSG_LENGTH_MAX];
    bool cut_short;
};

static void on_error(j_common_ptr cinfo) {
    struct load_error *e = (struct load_error *) cinfo->err;
    cinfo->err->format_message(cinfo, e->why);
    longjmp(e->back, 1);
}

/* Warnings decode on (stray bytes are common in camera files), except the
 * end of the file before the end of the image: the rest would be grey. */
static void on_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) ((struct load_error *) cinfo->err)->cut_short = true;
}

/* The pixels' babl format: the file's own profile when it has one. */
static const Babl *source_format(j_decompress_ptr cinfo, const char *encoding) {
    JOCTET *icc = NULL;
    unsigned int len = 0;
    const Babl *space = NULL;
    if (jpeg_read_icc_profile(cinfo, &icc, &len)) {
        const char *why = NULL;
        space = babl_space_from_icc((const char *) icc, (int) len, BABL_ICC_INTENT_RELATIVE_COLORIMETRIC, &why);
        free(icc);
    }
    return space ? babl_format_with_space(encoding, space) : babl_format(encoding);
}

bool io_jpeg_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len) {
    struct jpeg_decompress_struct cinfo;
    struct load_error e = {0};
    unsigned char *volatile row = NULL;
    volatile bool ok = false;
    cinfo.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = on_error;
    e.mgr.emit_message = on_message;
    jpeg_create_decompress(&cinfo);
    if (setjmp(e.back)) {
        snprintf(err, err_len, "cannot read '%s': not a readable JPEG (%s)", path, e.why);
        goto out;
    }
    jpeg_stdio_src(&cinfo, f);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF); /* the ICC profile */
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        snprintf(err, err_len,
                 "cannot read '%s': it is a CMYK JPEG, which neural-style does not convert; save it as RGB "
                 "first (GIMP converts it with its colour profile)",
                 path);
        goto out;
    }
    int w = (int) cinfo.image_width, h = (int) cinfo.image_height;
    if (!io_alloc(out, path, w, h, false, err, err_len)) goto out;
    bool gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
    cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    const Babl *format = source_format(&cinfo, gray ? "Y' u8" : "R'G'B' u8");
    row = malloc((size_t) w * cinfo.output_components);
    if (!row) {
        snprintf(err, err_len, "'%s' (%d x %d px) is too large for the memory there is", path, w, h);
        goto out;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        int y = (int) cinfo.output_scanline;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&cinfo, rows, 1);
        io_put_row(out, format, row, y);
    }
    jpeg_finish_decompress(&cinfo);
    if (e.cut_short) {
        snprintf(err, err_len, "cannot read '%s': the file ends before the image does (cut short?)", path);
        goto out;
    }
    out->has_alpha = false;
    out->depth = IO_DEPTH_U8;
    ok = true;
out:
    jpeg_destroy_decompress(&cinfo);
    free(row);
    if (!ok) io_free(out);
    return ok;
}

bool io_jpeg_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len) {
    struct jpeg_compress_struct cinfo;
    struct load_error e = {0};
    unsigned char *volatile mem = NULL;
    unsigned long len = 0;
    volatile bool ok = false;
    cinfo.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = on_error;
    jpeg_create_compress(&cinfo);
    if (setjmp(e.back)) {
        snprintf(why, why_len, "%s", e.why);
        goto out;
    }
    jpeg_mem_dest(&cinfo, (unsigned char **) &mem, &len);
    cinfo.image_width = (JDIMENSION) px->width;
    cinfo.image_height = (JDIMENSION) px->height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 95, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW) px->data + (size_t) cinfo.next_scanline * px->width * 3;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    g_byte_array_append(out, mem, (guint) len);
    ok = true;
out:
    jpeg_destroy_compress(&cinfo);
    free(mem);
    return ok;
}

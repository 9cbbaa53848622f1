/* tiff.c - TIFF files through libtiff, its messages caught per file (never
 * printed): a strip that cannot be read is a sentence.  RGB and grey of 8,
 * 16 bits and 32-bit float are read as they are; every other layout
 * (tiles, palettes, CMYK, YCbCr...) through libtiff's RGBA reader at 8 bits.
 * Saving encodes into memory through libtiff's client I/O. */
#include "image_io.h"

#include <stdarg.h>
#include <string.h>
#include <tiffio.h>
#include <unistd.h>

struct tiff_failure {
    char why[200];
};

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    struct tiff_failure *e = user;
    if (!e->why[0]) vsnprintf(e->why, sizeof e->why, fmt, ap);
    return 1;
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    return 1; /* unknown tags and the like: not the user's concern */
}

static TIFFOpenOptions *options(struct tiff_failure *e) {
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(o, on_error, e);
    TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, NULL);
    return o;
}

static const Babl *with_profile(TIFF *tif, const char *encoding) {
    uint32_t len = 0;
    void *icc = NULL;
    const Babl *space = NULL;
    if (TIFFGetField(tif, TIFFTAG_ICCPROFILE, &len, &icc) && icc) {
        const char *why = NULL;
        space = babl_space_from_icc(icc, (int) len, BABL_ICC_INTENT_RELATIVE_COLORIMETRIC, &why);
    }
    return space ? babl_format_with_space(encoding, space) : babl_format(encoding);
}

/* The babl format of a strip-stored RGB or grey image's rows, NULL for the
 * layouts left to the RGBA reader. */
static const Babl *plain_format(TIFF *tif, bool *alpha, enum io_depth *depth) {
    uint16_t spp = 1, bps = 1, fmt = SAMPLEFORMAT_UINT, photo = 0, planar = PLANARCONFIG_CONTIG;
    uint16_t n_extra = 0, *extra = NULL;
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &fmt);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &n_extra, &extra);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo) || TIFFIsTiled(tif) || planar != PLANARCONFIG_CONTIG)
        return NULL;
    bool rgb = photo == PHOTOMETRIC_RGB, grey = photo == PHOTOMETRIC_MINISBLACK;
    int colours = rgb ? 3 : grey ? 1 : 0;
    if (!colours || spp < colours || spp > colours + 1 || n_extra != spp - colours) return NULL;
    const char *type = bps == 8 && fmt == SAMPLEFORMAT_UINT     ? "u8"
                       : bps == 16 && fmt == SAMPLEFORMAT_UINT  ? "u16"
                       : bps == 32 && fmt == SAMPLEFORMAT_IEEEFP ? "float"
                                                                 : NULL;
    if (!type) return NULL;
    *alpha = spp > colours;
    bool premultiplied = *alpha && extra[0] == EXTRASAMPLE_ASSOCALPHA;
    *depth = bps == 8 ? IO_DEPTH_U8 : bps == 16 ? IO_DEPTH_U16 : IO_DEPTH_FLOAT;
    char name[32];
    snprintf(name, sizeof name, "%s %s",
             rgb ? (*alpha ? (premultiplied ? "R'aG'aB'aA" : "R'G'B'A") : "R'G'B'")
                 : (*alpha ? (premultiplied ? "Y'aA" : "Y'A") : "Y'"),
             type);
    return with_profile(tif, name);
}

static bool read_plain(TIFF *tif, const Babl *format, struct io_image *out) {
    void *row = _TIFFmalloc(TIFFScanlineSize(tif));
    bool ok = row != NULL;
    for (int y = 0; ok && y < out->im.height; y++) {
        ok = TIFFReadScanline(tif, row, (uint32_t) y, 0) == 1;
        if (ok) io_put_row(out, format, row, y);
    }
    _TIFFfree(row);
    return ok;
}

static bool read_rgba(TIFF *tif, struct io_image *out) {
    int w = out->im.width, h = out->im.height;
    uint16_t orientation = ORIENTATION_TOPLEFT;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);
    uint32_t *raster = _TIFFmalloc((tmsize_t) w * h * 4);
    /* the rows as stored: io_load turns the image by its orientation */
    bool ok = raster && TIFFReadRGBAImageOriented(tif, (uint32_t) w, (uint32_t) h, raster, orientation, 1);
    for (int y = 0; ok && y < h; y++)
        io_put_row(out, babl_format("R'G'B'A u8"), raster + (size_t) y * w, y);
    _TIFFfree(raster);
    return ok;
}

bool io_tiff_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len) {
    struct tiff_failure e = {""};
    TIFFOpenOptions *o = options(&e);
    int fd = dup(fileno(f));
    TIFF *tif = fd >= 0 ? TIFFFdOpenExt(fd, path, "r", o) : NULL;
    TIFFOpenOptionsFree(o);
    bool ok = false;
    if (!tif) {
        if (fd >= 0) close(fd);
        goto bad;
    }
    uint32_t w = 0, h = 0;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    bool alpha = false;
    enum io_depth depth = IO_DEPTH_U8;
    const Babl *format = plain_format(tif, &alpha, &depth);
    if (!format) { /* the RGBA reader: alpha where the file has an extra sample */
        uint16_t n_extra = 0, *extra = NULL;
        TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &n_extra, &extra);
        alpha = n_extra > 0;
    }
    if (w > 0x7fffffff || h > 0x7fffffff ||
        !io_alloc(out, path, (int) w, (int) h, alpha, err, err_len)) {
        TIFFClose(tif);
        return false;
    }
    out->depth = depth;
    ok = format ? read_plain(tif, format, out) : read_rgba(tif, out);
    TIFFClose(tif);
    if (ok) return true;
bad:
    snprintf(err, err_len, "cannot read '%s': not a readable TIFF (%s)", path, e.why[0] ? e.why : "cut short?");
    return false;
}

/* ---- a TIFF in memory ---- */

struct mem_file {
    GByteArray *bytes;
    toff_t pos;
};

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n) {
    struct mem_file *m = h;
    if (m->pos >= m->bytes->len) return 0;
    if ((toff_t) n > m->bytes->len - m->pos) n = (tmsize_t) (m->bytes->len - m->pos);
    memcpy(buf, m->bytes->data + m->pos, (size_t) n);
    m->pos += (toff_t) n;
    return n;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n) {
    struct mem_file *m = h;
    if (m->pos + (toff_t) n > G_MAXUINT) return -1;
    if (m->pos + (toff_t) n > m->bytes->len) g_byte_array_set_size(m->bytes, (guint) (m->pos + (toff_t) n));
    memcpy(m->bytes->data + m->pos, buf, (size_t) n);
    m->pos += (toff_t) n;
    return n;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence) {
    struct mem_file *m = h;
    toff_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->bytes->len : 0;
    m->pos = base + off;
    return m->pos;
}

static int mem_close(thandle_t h) {
    return 0;
}

static toff_t mem_size(thandle_t h) {
    return ((struct mem_file *) h)->bytes->len;
}

static int mem_map(thandle_t h, void **base, toff_t *size) {
    return 0;
}

static void mem_unmap(thandle_t h, void *base, toff_t size) {
}

bool io_tiff_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len) {
    struct tiff_failure e = {""};
    struct mem_file m = {out, 0};
    TIFFOpenOptions *o = options(&e);
    TIFF *tif = TIFFClientOpenExt("memory", "w", &m, mem_read, mem_write, mem_seek, mem_close, mem_size, mem_map,
                                  mem_unmap, o);
    TIFFOpenOptionsFree(o);
    if (!tif) {
        snprintf(why, why_len, "%s", e.why);
        return false;
    }
    static const uint16_t bits[] = {8, 16, 32};
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t) px->width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t) px->height);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t) px->channels);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, bits[px->depth]);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, px->depth == IO_DEPTH_FLOAT ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    if (px->channels == 4) {
        uint16_t extra = EXTRASAMPLE_UNASSALPHA;
        TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, &extra);
    }
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tif, 0));
    size_t row_bytes = (size_t) px->width * px->channels * (bits[px->depth] / 8);
    bool ok = true;
    for (int y = 0; ok && y < px->height; y++)
        ok = TIFFWriteScanline(tif, (char *) px->data + row_bytes * y, (uint32_t) y, 0) == 1;
    ok = ok && TIFFWriteDirectory(tif);
    TIFFClose(tif);
    if (!ok) snprintf(why, why_len, "%s", e.why[0] ? e.why : "a strip could not be written");
    return ok;
}

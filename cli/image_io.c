/* image_io.c - which decoder reads a file, which encoder writes one, and
 * what they share: the size check, the float pixels, the atomic write. */
#include "image_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void io_init(void) {
    babl_init();
}

void io_exit(void) {
    babl_exit();
}

void io_free(struct io_image *img) {
    g_free(img->im.data);
    memset(img, 0, sizeof *img);
}

static const char *extension(const char *path) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

/* MemAvailable in bytes, or 0 when unknown */
static double free_memory(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb * 1024;
}

bool io_size_ok(const char *path, int w, int h, char *err, size_t err_len) {
    /* the decoder's rows and our float copy: at most 32 bytes a pixel */
    double mp = (double) w * h / 1e6, need = (double) w * h * 32, have = free_memory();
    if (w < 1 || h < 1) {
        snprintf(err, err_len, "cannot read '%s': its header gives a size of %d x %d px", path, w, h);
        return false;
    }
    if (mp > IO_MAX_MEGAPIXELS) {
        snprintf(err, err_len, "'%s' is %d x %d px (%.0f megapixels), more than the %d megapixels neural-style reads",
                 path, w, h, mp, IO_MAX_MEGAPIXELS);
        return false;
    }
    if (have > 0 && need > have) {
        snprintf(err, err_len, "'%s' (%d x %d px) needs about %.1f GB to read, and %.1f GB of memory is free", path,
                 w, h, need / 1e9, have / 1e9);
        return false;
    }
    return true;
}

bool io_alloc(struct io_image *out, const char *path, int w, int h, bool alpha, char *err, size_t err_len) {
    if (!io_size_ok(path, w, h, err, err_len)) return false;
    int c = alpha ? 4 : 3;
    out->im.data = g_try_malloc((size_t) w * h * c * sizeof(float));
    if (!out->im.data) {
        snprintf(err, err_len, "'%s' (%d x %d px) is too large for the memory there is", path, w, h);
        return false;
    }
    out->im.width = w, out->im.height = h, out->im.channels = c, out->im.stride = c * w;
    out->has_alpha = alpha;
    return true;
}

void io_put_row(struct io_image *out, const Babl *format, const void *src, int y) {
    const Babl *to = babl_format(out->im.channels == 4 ? "R'G'B'A float" : "R'G'B' float");
    babl_process(babl_fish(format, to), src, out->im.data + (size_t) y * out->im.stride, out->im.width);
}

/* ---- reading ---- */

typedef bool (*io_loader)(const char *, FILE *, struct io_image *, char *, size_t);

/* The decoder for a file's first bytes (its extension does not count: a
 * PNG named .jpg is still read as a PNG), NULL when none. */
static io_loader loader_for(const unsigned char *m, size_t n) {
    if (n >= 3 && m[0] == 0xFF && m[1] == 0xD8 && m[2] == 0xFF) return io_jpeg_load;
    if (n >= 8 && !memcmp(m, "\x89PNG\r\n\x1a\n", 8)) return io_png_load;
    if (n >= 4 && (!memcmp(m, "II*\0", 4) || !memcmp(m, "MM\0*", 4))) return io_tiff_load;
    if (n >= 12 && !memcmp(m, "RIFF", 4) && !memcmp(m + 8, "WEBP", 4)) return io_webp_load;
    if (n >= 6 && (!memcmp(m, "GIF87a", 6) || !memcmp(m, "GIF89a", 6))) return io_gif_load;
    if (n >= 4 && !memcmp(m, "\x76\x2f\x31\x01", 4)) return io_exr_load;
    if (n >= 2 && m[0] == 'P' && (m[1] == '5' || m[1] == '6')) return io_pnm_load;
    return NULL;
}

bool io_load(const char *path, struct io_image *out, char *err, size_t err_len) {
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, err_len, "cannot read '%s': %s", path, ns_errno_str(errno));
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "cannot read '%s': it is a folder, not an image", path);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "cannot read '%s': it is not a regular file", path);
        return false;
    }
    if (st.st_size == 0) {
        snprintf(err, err_len, "cannot read '%s': the file is empty", path);
        return false;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot read '%s': %s", path, ns_errno_str(errno));
        return false;
    }
    unsigned char magic[12] = {0};
    size_t n = fread(magic, 1, sizeof magic, f);
    rewind(f);
    io_loader load = loader_for(magic, n);
    bool ok = false;
    if (!load)
        snprintf(err, err_len,
                 "cannot read '%s': not a JPEG, PNG, TIFF, WebP, GIF, OpenEXR or PPM file; save it as one of "
                 "those (GIMP opens and exports many more)",
                 path);
    else
        ok = load(path, f, out, err, err_len);
    fclose(f);
    if (ok && !io_apply_orientation(out, io_orientation(path))) {
        snprintf(err, err_len, "'%s' is too large for the memory there is", path);
        ok = false;
    }
    if (!ok) {
        io_free(out);
        /* a library's message may quote the file's own bytes: one line */
        for (char *c = err; *c; c++)
            if ((unsigned char) *c < 0x20 || *c == 0x7f) *c = '?';
    }
    return ok;
}

/* ---- writing ---- */

typedef bool (*io_encoder)(const struct io_pixels *, GByteArray *, char *, size_t);

struct io_format {
    const char *ext;
    io_encoder encode;
    bool alpha;      /* the format can keep it */
    int depths;      /* bit i: IO_DEPTH i kept, else the nearest below */
    const char *name;
};

static const struct io_format formats[] = {
    {"png", io_png_encode, true, 3, "PNG"},        {"jpg", io_jpeg_encode, false, 1, "JPEG"},
    {"jpeg", io_jpeg_encode, false, 1, "JPEG"},    {"tif", io_tiff_encode, true, 7, "TIFF"},
    {"tiff", io_tiff_encode, true, 7, "TIFF"},     {"exr", io_exr_encode, true, 4, "OpenEXR"},
    {"webp", io_webp_encode, true, 1, "WebP"},     {"ppm", io_pnm_encode, false, 3, "PPM"},
};

static const struct io_format *format_of(const char *path) {
    const char *ext = extension(path);
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (!g_ascii_strcasecmp(ext, formats[i].ext)) return &formats[i];
    return NULL;
}

bool io_check_output(const char *path, char *err, size_t err_len) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "cannot write '%s': it is a folder; give a file name such as result.png", path);
        return false;
    }
    if (!format_of(path)) {
        snprintf(err, err_len, "cannot write '%s': use a .png, .jpg, .tif, .exr, .webp or .ppm name", path);
        return false;
    }
    char *dir = g_path_get_dirname(path);
    bool ok = g_file_test(dir, G_FILE_TEST_IS_DIR) && access(dir, W_OK | X_OK) == 0;
    if (!ok)
        snprintf(err, err_len, "cannot write '%s': its folder '%s' does not exist or is not writable", path,
                 dir);
    g_free(dir);
    return ok;
}

bool io_save(const char *path, const struct ns_image *im, bool has_alpha, enum io_depth depth, char *err,
             size_t err_len) {
    if (!io_check_output(path, err, err_len)) return false;
    const struct io_format *fmt = format_of(path);
    has_alpha = has_alpha && fmt->alpha;
    while (!(fmt->depths & (1 << depth)))
        depth = depth == IO_DEPTH_U8 ? IO_DEPTH_FLOAT : depth - 1; /* EXR has floats only */
    bool linear = fmt->encode == io_exr_encode;
    static const char *const types[] = {"u8", "u16", "float"};
    static const size_t sizes[] = {1, 2, 4};
    char name[32];
    snprintf(name, sizeof name, "%s %s", linear ? (has_alpha ? "RGBA" : "RGB") : (has_alpha ? "R'G'B'A" : "R'G'B'"),
             types[depth]);
    int c = has_alpha ? 4 : 3;
    void *data = g_try_malloc((size_t) im->width * im->height * c * sizes[depth]);
    if (!data) {
        snprintf(err, err_len, "cannot write '%s': not enough memory to encode it", path);
        return false;
    }
    const Babl *fish = babl_fish(babl_format(im->channels == 4 ? "R'G'B'A float" : "R'G'B' float"), babl_format(name));
    for (int y = 0; y < im->height; y++)
        babl_process(fish, im->data + (size_t) y * im->stride,
                     (char *) data + (size_t) y * im->width * c * sizes[depth], im->width);
    struct io_pixels px = {data, im->width, im->height, c, depth};
    GByteArray *bytes = g_byte_array_new();
    char why[256] = "";
    bool ok = fmt->encode(&px, bytes, why, sizeof why);
    g_free(data);
    if (!ok)
        snprintf(err, err_len, "cannot write '%s': the %s encoder failed (%s)", path, fmt->name, why);
    else
        ok = ns_write_file(path, bytes->data, bytes->len, err, err_len) == NS_STATUS_OK;
    g_byte_array_unref(bytes);
    return ok;
}

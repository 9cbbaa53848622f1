/* image_io.c - loading and saving images with GEGL; babl converts pixels. */
#include "image_io.h"

#include <gegl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void io_init(void) {
    gegl_init(NULL, NULL);
}

void io_exit(void) {
    gegl_exit();
}

void io_free(struct io_image *img) {
    g_free(img->im.data);
    memset(img, 0, sizeof *img);
}

static enum io_depth depth_of(const Babl *format) {
    const Babl *type = babl_format_get_type(format, 0);
    const char *name = babl_get_name(type);
    if (strcmp(name, "u8") == 0) return IO_DEPTH_U8;
    if (strcmp(name, "u16") == 0) return IO_DEPTH_U16;
    return IO_DEPTH_FLOAT; /* half, float, double, u32 */
}

static const char *extension(const char *path) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : "";
}

static bool is_jpeg(const char *path) {
    unsigned char magic[3] = {0};
    FILE *f = fopen(path, "rb");
    if (f) {
        if (fread(magic, 1, 3, f) != 3) magic[0] = 0;
        fclose(f);
    }
    const char *ext = extension(path);
    return (magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) || !g_ascii_strcasecmp(ext, "jpg") ||
           !g_ascii_strcasecmp(ext, "jpeg") || !g_ascii_strcasecmp(ext, "jpe");
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
    /* GEGL's buffer and our float copy: at most 16 bytes a pixel each */
    double mp = (double) w * h / 1e6, need = (double) w * h * 32, have = free_memory();
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

bool io_load(const char *path, struct io_image *out, char *err, size_t err_len) {
    memset(out, 0, sizeof *out);
    GStatBuf st;
    if (g_stat(path, &st) != 0 || !S_ISREG(st.st_mode)) { /* stat follows links, as opening does */
        snprintf(err, err_len, "cannot read '%s': no such file", path);
        return false;
    }
    if (st.st_size == 0) {
        snprintf(err, err_len, "cannot read '%s': the file is empty", path);
        return false;
    }
    if (is_jpeg(path)) return io_jpeg_load(path, out, err, err_len);
    GeglNode *graph = gegl_node_new();
    GeglBuffer *buf = NULL;
    GeglNode *load = gegl_node_new_child(graph, "operation", "gegl:load", "path", path, NULL);
    /* the size from the header, before anything is decoded */
    GeglRectangle header = gegl_node_get_bounding_box(load);
    if (header.width > 0 && header.height > 0 && !io_size_ok(path, header.width, header.height, err, err_len)) {
        g_object_unref(graph);
        return false;
    }
    GeglNode *sink = gegl_node_new_child(graph, "operation", "gegl:buffer-sink", "buffer", &buf, NULL);
    gegl_node_link(load, sink);
    gegl_node_process(sink);
    g_object_unref(graph);
    const GeglRectangle *r = buf ? gegl_buffer_get_extent(buf) : NULL;
    if (!r || r->width < 1 || r->height < 1) {
        snprintf(err, err_len, "cannot read '%s': not an image GEGL can load", path);
        if (buf) g_object_unref(buf);
        return false;
    }
    const Babl *format = gegl_buffer_get_format(buf);
    out->has_alpha = babl_format_has_alpha(format);
    out->depth = depth_of(format);
    int channels = out->has_alpha ? 4 : 3; /* a quarter less for most photos */
    size_t n = (size_t) r->width * r->height * channels;
    out->im.data = g_try_malloc(n * sizeof(float));
    if (!out->im.data) {
        snprintf(err, err_len, "'%s' (%d x %d) is too large for memory", path, r->width, r->height);
        g_object_unref(buf);
        return false;
    }
    out->im.width = r->width;
    out->im.height = r->height;
    out->im.channels = channels;
    out->im.stride = channels * r->width;
    GeglRectangle rect = {r->x, r->y, r->width, r->height};
    gegl_buffer_get(buf, &rect, 1.0, babl_format(channels == 4 ? "R'G'B'A float" : "R'G'B' float"),
                    out->im.data, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    g_object_unref(buf);
    return true;
}

/* The GEGL save operation for a file name, NULL if none suits. */
static const char *save_op(const char *path) {
    static const char *const ops[][2] = {{"png", "gegl:png-save"},   {"jpg", "gegl:jpg-save"},
                                         {"jpeg", "gegl:jpg-save"},  {"tif", "gegl:tiff-save"},
                                         {"tiff", "gegl:tiff-save"}, {"exr", "gegl:exr-save"},
                                         {"webp", "gegl:webp-save"}, {"ppm", "gegl:ppm-save"}};
    const char *ext = extension(path);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!g_ascii_strcasecmp(ext, ops[i][0])) return ops[i][1];
    return NULL;
}

bool io_check_output(const char *path, char *err, size_t err_len) {
    if (!save_op(path)) {
        snprintf(err, err_len, "cannot write '%s': use a .png, .jpg, .tif, .exr, .webp or .ppm name", path);
        return false;
    }
    char *dir = g_path_get_dirname(path);
    bool ok = g_file_test(dir, G_FILE_TEST_IS_DIR) && access(dir, W_OK) == 0;
    if (!ok)
        snprintf(err, err_len, "cannot write '%s': its folder '%s' does not exist or is not writable", path,
                 dir);
    g_free(dir);
    return ok;
}

bool io_save(const char *path, const struct ns_image *im, bool has_alpha, enum io_depth depth, char *err,
             size_t err_len) {
    if (!io_check_output(path, err, err_len)) return false;
    const char *op = save_op(path);
    bool png = !strcmp(op, "gegl:png-save"), jpg = !strcmp(op, "gegl:jpg-save");
    bool tiff = !strcmp(op, "gegl:tiff-save"), ppm = !strcmp(op, "gegl:ppm-save");
    const char *ext = extension(path);
    if (jpg) depth = IO_DEPTH_U8, has_alpha = false;
    if (ppm) has_alpha = false, depth = depth == IO_DEPTH_U8 ? IO_DEPTH_U8 : IO_DEPTH_U16;

    static const char *const formats[2][3] = {{"R'G'B' u8", "R'G'B' u16", "R'G'B' float"},
                                              {"R'G'B'A u8", "R'G'B'A u16", "R'G'B'A float"}};
    GeglRectangle rect = {0, 0, im->width, im->height};
    GeglBuffer *buf = gegl_buffer_new(&rect, babl_format(formats[has_alpha][depth]));
    const Babl *src = babl_format(im->channels == 4 ? "R'G'B'A float" : "R'G'B' float");
    gegl_buffer_set(buf, &rect, 0, src, im->data, (gint) (im->stride * sizeof(float)));

    char *dir = g_path_get_dirname(path), *base = g_path_get_basename(path);
    char *tmp = g_strdup_printf("%s/.%s.partial-%d.%s", dir, base, (int) getpid(), ext);
    GeglNode *graph = gegl_node_new();
    GeglNode *source = gegl_node_new_child(graph, "operation", "gegl:buffer-source", "buffer", buf, NULL);
    GeglNode *save = gegl_node_new_child(graph, "operation", op, "path", tmp, NULL);
    if (png || ppm) gegl_node_set(save, "bitdepth", depth == IO_DEPTH_U8 ? 8 : 16, NULL);
    if (jpg) gegl_node_set(save, "quality", 95, NULL);
    if (tiff)
        gegl_node_set(save, "bitdepth",
                      depth == IO_DEPTH_U8    ? 8
                      : depth == IO_DEPTH_U16 ? 16
                                              : 32,
                      "fp", depth == IO_DEPTH_FLOAT ? 1 : 0, NULL);
    gegl_node_link(source, save);
    gegl_node_process(save);
    g_object_unref(graph);
    g_object_unref(buf);

    GStatBuf st;
    bool ok = g_stat(tmp, &st) == 0 && st.st_size > 0;
    if (ok && g_rename(tmp, path) != 0) ok = false;
    if (!ok) {
        g_unlink(tmp);
        snprintf(err, err_len, "cannot write '%s': check that its folder exists and is writable", path);
    }
    g_free(tmp);
    g_free(dir);
    g_free(base);
    return ok;
}

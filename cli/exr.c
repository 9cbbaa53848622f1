/* exr.c - OpenEXR scanline files through OpenEXR's C core: R, G, B (and A,
 * or Y for grey) as float, in linear light, as OpenEXR defines them; io_save
 * hands linear pixels and io_put_row converts them back.  Saving writes into
 * memory through the core's write callback. */
#include "image_io.h"

#include <openexr.h>
#include <string.h>

struct exr_failure {
    char why[200];
    GByteArray *bytes; /* saving: the file being written */
};

static void on_error(exr_const_context_t ctx, exr_result_t code, const char *msg) {
    void *user = NULL;
    exr_get_user_data(ctx, &user);
    struct exr_failure *e = user;
    if (e && !e->why[0]) snprintf(e->why, sizeof e->why, "%s", msg ? msg : exr_get_error_code_as_string(code));
}

/* The channel a decoded name goes to in an RGBA float row, -1 if none. */
static int slot_of(const char *name, bool grey) {
    if (grey && !strcmp(name, "Y")) return 0;
    static const char *const rgba[] = {"R", "G", "B", "A"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, rgba[i])) return i;
    return -1;
}

static bool decode(exr_context_t ctx, struct io_image *out, const exr_attr_box2i_t *dw, bool grey) {
    int w = out->im.width, lines = 1;
    exr_get_scanlines_per_chunk(ctx, 0, &lines);
    float *rgba = g_try_malloc((size_t) w * 4 * sizeof(float) * lines);
    if (!rgba) return false;
    exr_decode_pipeline_t dec = EXR_DECODE_PIPELINE_INITIALIZER;
    bool ok = true, started = false;
    for (int y = dw->min.y; ok && y <= dw->max.y; y += lines) {
        exr_chunk_info_t chunk;
        ok = exr_read_scanline_chunk_info(ctx, 0, y, &chunk) == EXR_ERR_SUCCESS;
        if (ok) ok = (started ? exr_decoding_update(ctx, 0, &chunk, &dec)
                              : exr_decoding_initialize(ctx, 0, &chunk, &dec)) == EXR_ERR_SUCCESS;
        if (!ok) break;
        started = true;
        for (size_t i = 0; i < (size_t) w * lines; i++)
            rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = 0, rgba[4 * i + 3] = 1;
        for (int c = 0; c < dec.channel_count; c++) {
            exr_coding_channel_info_t *ch = &dec.channels[c];
            int slot = slot_of(ch->channel_name, grey);
            bool sampled = ch->x_samples == 1 && ch->y_samples == 1;
            ch->decode_to_ptr = slot >= 0 && sampled ? (uint8_t *) (rgba + slot) : NULL;
            ch->user_pixel_stride = 4 * sizeof(float);
            ch->user_line_stride = w * 4 * sizeof(float);
            ch->user_data_type = EXR_PIXEL_FLOAT;
            ch->user_bytes_per_element = sizeof(float);
        }
        ok = exr_decoding_choose_default_routines(ctx, 0, &dec) == EXR_ERR_SUCCESS &&
             exr_decoding_run(ctx, 0, &dec) == EXR_ERR_SUCCESS;
        for (int l = 0; ok && l < chunk.height; l++) {
            float *row = rgba + (size_t) l * w * 4;
            if (grey)
                for (int x = 0; x < w; x++)
                    row[4 * x + 1] = row[4 * x + 2] = row[4 * x];
            io_put_row(out, babl_format("RGBA float"), row, chunk.start_y - dw->min.y + l);
        }
    }
    if (started) exr_decoding_destroy(ctx, &dec);
    g_free(rgba);
    return ok;
}

bool io_exr_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len) {
    struct exr_failure e = {"", NULL};
    exr_context_initializer_t init = EXR_DEFAULT_CONTEXT_INITIALIZER;
    init.error_handler_fn = on_error;
    init.user_data = &e;
    exr_context_t ctx = NULL;
    bool ok = false;
    if (exr_start_read(&ctx, path, &init) != EXR_ERR_SUCCESS) goto out;
    exr_storage_t storage;
    exr_attr_box2i_t dw;
    const exr_attr_chlist_t *chans = NULL;
    if (exr_get_storage(ctx, 0, &storage) || exr_get_data_window(ctx, 0, &dw) || exr_get_channels(ctx, 0, &chans))
        goto out;
    if (storage != EXR_STORAGE_SCANLINE) {
        snprintf(err, err_len, "cannot read '%s': a tiled or deep OpenEXR; save it as a scanline image", path);
        exr_finish(&ctx);
        return false;
    }
    bool alpha = false, grey = true;
    for (int i = 0; i < chans->num_channels; i++) {
        const char *n = chans->entries[i].name.str;
        alpha |= !strcmp(n, "A");
        grey &= strcmp(n, "R") && strcmp(n, "G") && strcmp(n, "B");
    }
    int64_t w = (int64_t) dw.max.x - dw.min.x + 1, h = (int64_t) dw.max.y - dw.min.y + 1;
    if (w < 1 || h < 1 || w > 0x7fffffff || h > 0x7fffffff ||
        !io_alloc(out, path, (int) w, (int) h, alpha, err, err_len)) {
        if (w >= 1 && h >= 1 && w <= 0x7fffffff && h <= 0x7fffffff) {
            exr_finish(&ctx);
            return false;
        }
        snprintf(e.why, sizeof e.why, "a data window of %lld x %lld px", (long long) w, (long long) h);
        goto out;
    }
    out->depth = IO_DEPTH_FLOAT;
    ok = decode(ctx, out, &dw, grey);
out:
    if (ctx) exr_finish(&ctx);
    if (!ok) snprintf(err, err_len, "cannot read '%s': not a readable OpenEXR (%s)", path, e.why[0] ? e.why : "corrupt or cut short");
    return ok;
}

static int64_t write_bytes(exr_const_context_t ctx, void *user, const void *buf, uint64_t n, uint64_t offset,
                           exr_stream_error_func_ptr_t error_cb) {
    struct exr_failure *e = user;
    if (offset + n > G_MAXUINT) return -1;
    if (offset + n > e->bytes->len) g_byte_array_set_size(e->bytes, (guint) (offset + n));
    memcpy(e->bytes->data + offset, buf, n);
    return (int64_t) n;
}

bool io_exr_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len) {
    struct exr_failure e = {"", out};
    exr_context_initializer_t init = EXR_DEFAULT_CONTEXT_INITIALIZER;
    init.error_handler_fn = on_error;
    init.write_fn = write_bytes;
    init.user_data = &e;
    exr_context_t ctx = NULL;
    int part = 0, lines = 1;
    static const char *const names[] = {"A", "B", "G", "R"}; /* stored in this order */
    bool ok = exr_start_write(&ctx, "memory", EXR_WRITE_FILE_DIRECTLY, &init) == EXR_ERR_SUCCESS &&
              exr_add_part(ctx, "main", EXR_STORAGE_SCANLINE, &part) == EXR_ERR_SUCCESS &&
              exr_initialize_required_attr_simple(ctx, part, px->width, px->height, EXR_COMPRESSION_ZIP) ==
                  EXR_ERR_SUCCESS;
    for (int i = px->channels == 4 ? 0 : 1; ok && i < 4; i++)
        ok = exr_add_channel(ctx, part, names[i], EXR_PIXEL_FLOAT, EXR_PERCEPTUALLY_LINEAR, 1, 1) ==
             EXR_ERR_SUCCESS;
    ok = ok && exr_write_header(ctx) == EXR_ERR_SUCCESS && exr_get_scanlines_per_chunk(ctx, part, &lines) == 0;
    exr_encode_pipeline_t enc = EXR_ENCODE_PIPELINE_INITIALIZER;
    bool started = false;
    size_t line_bytes = (size_t) px->width * px->channels * sizeof(float);
    for (int y = 0; ok && y < px->height; y += lines) {
        exr_chunk_info_t chunk;
        ok = exr_write_scanline_chunk_info(ctx, part, y, &chunk) == EXR_ERR_SUCCESS;
        if (ok) ok = (started ? exr_encoding_update(ctx, part, &chunk, &enc)
                              : exr_encoding_initialize(ctx, part, &chunk, &enc)) == EXR_ERR_SUCCESS;
        if (!ok) break;
        started = true;
        for (int c = 0; c < enc.channel_count; c++) {
            exr_coding_channel_info_t *ch = &enc.channels[c];
            int slot = slot_of(ch->channel_name, false);
            ch->encode_from_ptr = (const uint8_t *) px->data + (size_t) y * line_bytes + slot * sizeof(float);
            ch->user_pixel_stride = px->channels * sizeof(float);
            ch->user_line_stride = (int32_t) line_bytes;
            ch->user_data_type = EXR_PIXEL_FLOAT;
            ch->user_bytes_per_element = sizeof(float);
        }
        ok = exr_encoding_choose_default_routines(ctx, part, &enc) == EXR_ERR_SUCCESS &&
             exr_encoding_run(ctx, part, &enc) == EXR_ERR_SUCCESS;
    }
    if (started) exr_encoding_destroy(ctx, &enc);
    if (ctx && exr_finish(&ctx) != EXR_ERR_SUCCESS) ok = false;
    if (!ok) snprintf(why, why_len, "%s", e.why[0] ? e.why : "OpenEXR refused the image");
    return ok;
}

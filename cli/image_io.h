/* image_io.h - image files for the command line, each format through its
 * own library (libjpeg, libpng, libtiff, libwebp, giflib, OpenEXR), babl
 * for pixels and colour, gexiv2 for the orientation. */
#ifndef NS_CLI_IMAGE_IO_H
#define NS_CLI_IMAGE_IO_H

#include "ns.h"

#include <babl/babl.h>
#include <glib.h>
#include <stdio.h>

enum io_depth { IO_DEPTH_U8, IO_DEPTH_U16, IO_DEPTH_FLOAT };

struct io_image {
    struct ns_image im; /* R'G'B' float, R'G'B'A where the file has alpha; owned */
    bool has_alpha;
    enum io_depth depth; /* of the file it came from */
};

/* The largest image read, in megapixels (medium-format backs give 150);
 * the image fuzzer builds with a smaller one. */
#ifndef IO_MAX_MEGAPIXELS
#define IO_MAX_MEGAPIXELS 250
#endif

void io_init(void);
void io_exit(void);
/* Loads a JPEG, PNG, TIFF, WebP, GIF (its first frame), OpenEXR or
 * PPM/PGM file, turned upright by its EXIF orientation.  err gets one
 * sentence on failure that names the file: unreadable, cut short, corrupt,
 * an unknown format, too large (an image over IO_MAX_MEGAPIXELS or larger
 * than free memory is refused from its header, undecoded).  Never a
 * partial picture. */
bool io_load(const char *path, struct io_image *out, char *err, size_t err_len);
/* Saves by extension (png, jpg/jpeg, tif/tiff, exr, webp, ppm) at `depth`
 * (PNG, PPM 8 or 16 bits, TIFF/EXR keep floats), with alpha when has_alpha.
 * The file is encoded in memory and written by ns_write_file: a failure
 * leaves an existing file as it was. */
bool io_save(const char *path, const struct ns_image *im, bool has_alpha, enum io_depth depth, char *err,
             size_t err_len);
/* Whether `path` can be written (a known extension, a writable folder):
 * asked before a long run rather than after it. */
bool io_check_output(const char *path, char *err, size_t err_len);
void io_free(struct io_image *img);
/* thumbnail.c: im shrunk to fit NS_STYLE_THUMB px as a PNG data URI
 * (g_free it), or NULL with err a sentence. */
char *io_thumbnail_uri(const struct ns_image *im, char *err, size_t err_len);
/* Whether an image of w x h may be read: at most IO_MAX_MEGAPIXELS, and
 * it fits in free memory; else a sentence naming the file. */
bool io_size_ok(const char *path, int w, int h, char *err, size_t err_len);
/* Checks the size, then allocates out's float pixels (3 or 4 channels). */
bool io_alloc(struct io_image *out, const char *path, int w, int h, bool alpha, char *err, size_t err_len);
/* Converts w pixels of `format` into row y of out (babl). */
void io_put_row(struct io_image *out, const Babl *format, const void *src, int y);

/* One decoder per format: f is open at offset 0.  Each refuses what it
 * cannot read whole. */
bool io_jpeg_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len);
bool io_png_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len);
bool io_tiff_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len);
bool io_webp_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len);
bool io_gif_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len);
bool io_exr_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len);
bool io_pnm_load(const char *path, FILE *f, struct io_image *out, char *err, size_t err_len);

/* Pixels handed to an encoder: interleaved R'G'B'(A) samples of one type
 * (u8, u16 in host order, or float; OpenEXR's are linear light). */
struct io_pixels {
    const void *data;
    int width, height, channels;
    enum io_depth depth;
};

/* One encoder per format, into memory; false with the reason in why. */
bool io_jpeg_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len);
bool io_png_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len);
bool io_tiff_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len);
bool io_webp_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len);
bool io_exr_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len);
bool io_pnm_encode(const struct io_pixels *px, GByteArray *out, char *why, size_t why_len);

/* The EXIF orientation (1..8) in the file's metadata, 1 when none. */
int io_orientation(const char *path);
/* Turns out upright from EXIF orientation o; false when out of memory. */
bool io_apply_orientation(struct io_image *out, int o);

#endif /* NS_CLI_IMAGE_IO_H */

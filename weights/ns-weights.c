/* ns-weights - weights tool.
 *
 *   ns-weights import-keras IN.h5 OUT.safetensors
 *       Keras VGG16/19 "notop" .h5 (HDF5, read by keras.c, every dataset
 *       checked before it is read) -> the engine's layout:
 *       conv<B>_<C>.weight [out,in,3,3] and .bias, Caffe/BGR metadata,
 *       written whole or not at all by the engine's one writer
 *       (ns_weights_save).
 *   ns-weights import IN.onnx OUT.safetensors [--name N] [--license L] [--source S]
 *                     [--thumbnail PAINTING]
 *   ns-weights describe MODEL.safetensors [--name N] [--license L] [--source S]
 *                       [--thumbnail PAINTING]       (the metadata, in place)
 *       a fast style network exported to ONNX (a TransformerNet; the ONNX
 *       model zoo's fast_neural_style models) -> the engine's style model
 *       file, with the style's name, licence and source as its metadata.
 *   ns-weights info FILE.safetensors
 *       loads the file (VGG weights or a fast style) with the engine's
 *       loader and prints what it holds.
 *   ns-weights manifest MANIFEST.json
 *       prints "file md5 url" lines of the manifest for install.sh.
 */
#include "ffnet.h"
#include "image_io.h"
#include "keras.h"
#include "safetensors.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int usage(void) {
    fprintf(stderr, "usage: ns-weights import-keras IN.h5 OUT.safetensors\n"
                    "       ns-weights import IN.onnx OUT.safetensors [--name N] [--license L] [--source S]\n"
                    "                         [--thumbnail PAINTING]\n"
                    "       ns-weights describe MODEL.safetensors [--name N] [--license L] [--source S]\n"
                    "                           [--thumbnail PAINTING]\n"
                    "       ns-weights info FILE.safetensors\n"
                    "       ns-weights manifest MANIFEST.json\n");
    return 2;
}

/* Converts IN (HDF5) to OUT (safetensors, written whole or not at all). */
static int convert_keras(const char *in, const char *out) {
    H5Eset_auto(H5E_DEFAULT, NULL, NULL); /* our messages, not HDF5's stack dumps */
    hid_t file = H5Fopen(in, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        fprintf(stderr, "ns-weights: cannot open '%s' as HDF5 (is it the Keras .h5 file?)\n", in);
        return 1;
    }
    struct ns_weights w;
    char err[600];
    enum ns_status st = ns_keras_read(file, &w, err, sizeof err);
    H5Fclose(file);
    if (st) {
        fprintf(stderr, "ns-weights: '%s': %s\n", in, err);
        return 1;
    }
    char *meta = g_strdup_printf(NS_META_CAFFE_FMT ",\"source\":\"%s\"", w.arch,
                                 "Keras VGG notop .h5 (Oxford VGG, CC BY 4.0), HWIO -> OIHW");
    st = ns_weights_save(out, &w, meta, err, sizeof err);
    g_free(meta);
    if (st)
        fprintf(stderr, "ns-weights: %s\n", err);
    else
        printf("ns-weights: wrote %s: VGG-%d, %d conv layers (conv1_1 .. %s)\n", out, w.arch, w.n_layers,
               w.layer[w.n_layers - 1].name);
    ns_weights_free(&w);
    return st ? 1 : 0;
}

/* libhdf5 1.10 itself crashes on some crafted files (a global-heap object
 * that claims 2^63 bytes segfaults in H5HG_read, before any of our checks
 * can see it), so the conversion runs in a child: such a file is one line
 * and exit 1, and the output is untouched (the child writes it whole or not
 * at all, and dies with this process). */
static int import_keras(const char *in, const char *out) {
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) return convert_keras(in, out); /* no child to be had: in this process */
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        int rc = convert_keras(in, out);
        fflush(stdout);
        _exit(rc);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "ns-weights: '%s': lost the conversion (%s)\n", in, g_strerror(errno));
            return 1;
        }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    fprintf(stderr,
            "ns-weights: '%s': libhdf5 failed on it (%s): the file is corrupt; '%s' was not written\n", in,
            strsignal(WTERMSIG(status)), out);
    return 1;
}

/* The painting in file, shrunk to fit NS_STYLE_THUMB px, as m's thumbnail:
 * a PNG as a data URI (ns_style_model_thumbnail reads it). */
static bool set_thumbnail(struct ns_style_model *m, const char *file, char *err, size_t err_len) {
    struct io_image img;
    err[0] = '\0';
    if (!io_load(file, &img, err, err_len)) return false;
    char *uri = io_thumbnail_uri(&img.im, err, err_len);
    bool ok = uri && ns_style_model_set_info(m, "thumbnail", uri) == NS_STATUS_OK;
    if (uri && !ok) snprintf(err, err_len, "not enough memory for the thumbnail of %s", file);
    g_free(uri);
    io_free(&img);
    return ok;
}

/* The options from argv[first] on into m's metadata: --name, --license,
 * --source, --thumbnail PAINTING.  Exit status 0, or 1 / 2 after saying
 * why (out is the file that will not be written). */
static int set_metadata(struct ns_style_model *m, int argc, char **argv, int first, const char *out) {
    char err[600];
    for (int i = first; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--thumbnail")) {
            err[0] = 0;
            io_init();
            bool ok = set_thumbnail(m, argv[i + 1], err, sizeof err);
            io_exit();
            if (!ok) {
                fprintf(stderr, "ns-weights: --thumbnail: %s; '%s' was not written\n", err, out);
                return 1;
            }
        } else if (!strcmp(argv[i], "--name") || !strcmp(argv[i], "--license") || !strcmp(argv[i], "--source")) {
            ns_style_model_set_info(m, argv[i] + 2, argv[i + 1]);
        } else {
            return usage();
        }
    }
    return 0;
}

/* Writes m to out whole, and says so. */
static int save_model(struct ns_style_model *m, const char *out) {
    char err[600];
    enum ns_status st = ns_style_model_save(out, m, err, sizeof err);
    if (st)
        fprintf(stderr, "ns-weights: %s\n", err);
    else
        printf("ns-weights: wrote %s: %s '%s' (%s)\n", out, ns_style_model_info(m, "architecture"),
               ns_style_model_info(m, "name"), ns_style_model_info(m, "source"));
    return st ? 1 : 0;
}

/* An ONNX style network -> a model file; the options set its metadata. */
static int import_onnx(int argc, char **argv) {
    const char *in = argv[2], *out = argv[3];
    struct ns_style_model *m;
    char err[600];
    if (ns_style_model_import_onnx(in, &m, err, sizeof err)) {
        fprintf(stderr, "ns-weights: %s\n", err);
        return 1;
    }
    int rc = set_metadata(m, argc, argv, 4, out);
    if (!rc) rc = save_model(m, out);
    ns_style_model_free(m);
    return rc;
}

/* A model file's metadata changed in place (its name, licence, source, the
 * painting's thumbnail): the file is replaced whole or not at all. */
static int describe(int argc, char **argv) {
    const char *path = argv[2];
    struct ns_style_model *m;
    char err[600];
    if (ns_style_model_load(path, &m, err, sizeof err)) {
        fprintf(stderr, "ns-weights: %s\n", err);
        return 1;
    }
    int rc = set_metadata(m, argc, argv, 3, path);
    if (!rc) rc = save_model(m, path);
    ns_style_model_free(m);
    return rc;
}

/* A fast style's model file: what --list-styles shows. */
static int style_info(const char *path) {
    struct ns_style_model *m;
    char err[512];
    if (ns_style_model_load(path, &m, err, sizeof err)) {
        fprintf(stderr, "ns-weights: %s\n", err);
        return 1;
    }
    const char *lic = ns_style_model_info(m, "license"), *src = ns_style_model_info(m, "source");
    printf("%s: fast style '%s' (%s), licence %s, from %s\n", path, ns_style_model_info(m, "name"),
           ns_style_model_info(m, "architecture"), lic ? lic : "not stated", src ? src : "not stated");
    size_t n = 0;
    unsigned char *png = ns_style_model_thumbnail(m, &n);
    FILE *f = png ? fmemopen(png, n, "rb") : NULL;
    struct io_image thumb;
    io_init();
    if (f && io_png_load("thumbnail", f, &thumb, err, sizeof err)) {
        printf("  the painting's thumbnail: %d x %d\n", thumb.im.width, thumb.im.height);
        io_free(&thumb);
    } else if (ns_style_model_info(m, "thumbnail")) {
        printf("  the painting's thumbnail is unreadable\n");
    }
    io_exit();
    if (f) fclose(f);
    free(png);
    ns_style_model_free(m);
    return 0;
}

/* A file whose metadata names a feed-forward architecture is a style model. */
static bool is_style_model(const char *path) {
    struct ns_st_file f;
    char err[512];
    if (ns_st_open(&f, path, "file", err, sizeof err)) return false;
    const char *arch = ns_st_meta(&f, "architecture");
    bool style = arch && ns_ff_arch_find(arch);
    ns_st_close(&f);
    return style;
}

static int info(const char *path) {
    struct ns_weights w;
    char err[512];
    if (is_style_model(path)) return style_info(path);
    if (ns_weights_load(path, &w, err, sizeof err)) {
        fprintf(stderr, "ns-weights: %s\n", err);
        return 1;
    }
    printf("%s: VGG-%d, %d conv layers (conv1_1 .. %s), input %s\n", path, w.arch, w.n_layers,
           w.layer[w.n_layers - 1].name, w.convention);
    ns_weights_free(&w);
    return 0;
}

/* The member's string value, NULL when absent or not a string. */
static const char *string_member(JsonObject *o, const char *name) {
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

/* The manifest's "files": [{"file", "md5", "urls": [...]}...] as lines;
 * anything else is one line naming the file. */
static int manifest(const char *path) {
    gchar *text = NULL;
    gsize len = 0;
    GError *e = NULL;
    if (!g_file_get_contents(path, &text, &len, &e)) {
        fprintf(stderr, "ns-weights: cannot read '%s': %s\n", path, e->message);
        g_error_free(e);
        return 1;
    }
    int depth;
    JsonParser *p = json_parser_new();
    bool ok = ns_json_check(text, len, 16, &depth) == len &&
              json_parser_load_from_data(p, text, (gssize) len, NULL);
    g_free(text);
    JsonNode *root = ok ? json_parser_get_root(p) : NULL;
    JsonNode *files = root && JSON_NODE_HOLDS_OBJECT(root)
                          ? json_object_get_member(json_node_get_object(root), "files")
                          : NULL;
    JsonArray *fa = files && JSON_NODE_HOLDS_ARRAY(files) ? json_node_get_array(files) : NULL;
    for (guint i = 0; fa && i < json_array_get_length(fa); i++) {
        JsonNode *f = json_array_get_element(fa, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(f) ? json_node_get_object(f) : NULL;
        JsonNode *urls = o ? json_object_get_member(o, "urls") : NULL;
        JsonArray *ua = urls && JSON_NODE_HOLDS_ARRAY(urls) ? json_node_get_array(urls) : NULL;
        const char *file = string_member(o, "file"), *md5 = string_member(o, "md5");
        for (guint k = 0; ua && file && md5 && k < json_array_get_length(ua); k++) {
            JsonNode *u = json_array_get_element(ua, k);
            if (JSON_NODE_HOLDS_VALUE(u) && json_node_get_value_type(u) == G_TYPE_STRING)
                printf("%s %s %s\n", file, md5, json_node_get_string(u));
            else
                ua = NULL;
        }
        if (!ua || !file || !md5) fa = NULL;
    }
    g_object_unref(p);
    if (!fa)
        fprintf(stderr,
                "ns-weights: '%s' is not a weights manifest (JSON with \"files\": a list of objects with "
                "\"file\", \"md5\" and \"urls\" strings)\n",
                path);
    return fa ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "import-keras") == 0) return import_keras(argv[2], argv[3]);
    if (argc >= 4 && argc % 2 == 0 && strcmp(argv[1], "import") == 0) return import_onnx(argc, argv);
    if (argc >= 5 && argc % 2 == 1 && strcmp(argv[1], "describe") == 0) return describe(argc, argv);
    if (argc == 3 && strcmp(argv[1], "info") == 0) return info(argv[2]);
    if (argc == 3 && strcmp(argv[1], "manifest") == 0) return manifest(argv[2]);
    return usage();
}

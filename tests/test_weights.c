/* test_weights.c - the safetensors loader: good files, every kind of bad
 * file with its message, and a mutation fuzz that must never crash (run
 * under ASan/UBSan by make test-asan). */
#include "context.h"
#include "testlib.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static char *tmp_path(const char *name) {
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

static unsigned char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *n = (size_t) ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(*n);
    if (fread(p, 1, *n, f) != *n) abort();
    fclose(f);
    return p;
}

/* The header length a safetensors file begins with (little-endian). */
static uint64_t header_len(const unsigned char *file) {
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = (hl << 8) | file[i];
    return hl;
}

/* A safetensors file from a header string and zeroed or given data. */
static void write_st(const char *path, const char *header, const void *data, size_t dlen) {
    size_t hl = strlen(header);
    unsigned char *buf = calloc(1, 8 + hl + dlen + 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char) ((uint64_t) hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    if (data) memcpy(buf + 8 + hl, data, dlen);
    write_file(path, buf, 8 + hl + dlen);
    free(buf);
}

static void expect_error(const char *what, const char *path, enum ns_status want, const char *needle) {
    struct ns_weights w;
    char err[512];
    enum ns_status st = ns_weights_load(path, &w, err, sizeof err);
    CHECK(st == want, "%s: status %d (%s), want %d; message: %s", what, st, ns_status_str(st), want, err);
    CHECK(strstr(err, needle) != NULL, "%s: message '%s' does not say '%s'", what, err, needle);
    if (st == NS_STATUS_OK) ns_weights_free(&w);
}

/* Header for conv1_1 (+ conv1_2 when two) with F32 data laid out in order. */
static char *header_conv(const char *w11_shape, const char *dtype, bool with_bias, bool add_conv21) {
    static char h[2048];
    int n =
        snprintf(h, sizeof h, "{\"conv1_1.weight\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[0,6912]}",
                 dtype, w11_shape);
    if (with_bias)
        n += snprintf(h + n, sizeof h - n,
                      ",\"conv1_1.bias\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[6912,7168]}");
    if (add_conv21)
        n += snprintf(
            h + n, sizeof h - n,
            ",\"conv2_1.weight\":{\"dtype\":\"F32\",\"shape\":[128,64,3,3],\"data_offsets\":[7168,302080]}"
            ",\"conv2_1.bias\":{\"dtype\":\"F32\",\"shape\":[128],\"data_offsets\":[302080,302592]}");
    snprintf(h + n, sizeof h - n, "}");
    return h;
}

static void test_good(void) {
    struct ns_weights w, r;
    random_weights(&w, 19, 3);
    CHECK(write_safetensors(tmp_path("good.safetensors"), &w, NULL), "write good file");
    char err[512];
    CHECK(ns_weights_load(tmp_path("good.safetensors"), &r, err, sizeof err) == NS_STATUS_OK, "good file: %s",
          err);
    CHECK(r.n_layers == 3 && r.arch == 19, "good file: %d layers, arch %d", r.n_layers, r.arch);
    CHECK(strcmp(r.layer[2].name, "conv2_1") == 0 && r.layer[2].cin == 64 && r.layer[2].cout == 128,
          "good file: third layer %s %d->%d", r.layer[2].name, r.layer[2].cin, r.layer[2].cout);
    CHECK(memcmp(r.layer[1].weight, w.layer[1].weight, 64 * 64 * 9 * 4) == 0, "weights read back differ");
    CHECK(r.perm[0] == 2 && r.perm[2] == 0, "BGR order not read");
    CHECK(fabsf(r.a[0] - 255.0f) < 1e-3f && fabsf(r.b[0] + 103.939f) < 1e-3f &&
              fabsf(r.b[2] + 123.68f) < 1e-3f,
          "Caffe convention read as a=%g b=%g,%g", r.a[0], r.b[0], r.b[2]);
    ns_weights_free(&r);

    /* torchvision naming, no metadata, VGG-16: RGB 0..1 with ImageNet mean/std */
    char h[4096];
    int n = snprintf(h, sizeof h, "{");
    size_t off = 0;
    const int idx[3] = {0, 2, 5};
    for (int l = 0; l < 3; l++) {
        size_t nw = (size_t) w.layer[l].cout * w.layer[l].cin * 9 * 4, nb = (size_t) w.layer[l].cout * 4;
        n += snprintf(
            h + n, sizeof h - n,
            "%s\"features.%d.weight\":{\"dtype\":\"F32\",\"shape\":[%d,%d,3,3],\"data_offsets\":[%zu,%zu]},"
            "\"features.%d.bias\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}",
            l ? "," : "", idx[l], w.layer[l].cout, w.layer[l].cin, off, off + nw, idx[l], w.layer[l].cout,
            off + nw, off + nw + nb);
        off += nw + nb;
    }
    snprintf(h + n, sizeof h - n, "}");
    write_st(tmp_path("tv.safetensors"), h, NULL, off);
    CHECK(ns_weights_load(tmp_path("tv.safetensors"), &r, err, sizeof err) == NS_STATUS_OK, "torchvision: %s",
          err);
    CHECK(r.n_layers == 3 && r.perm[0] == 0 && fabsf(r.a[0] - 1 / 0.229f) < 1e-3f,
          "torchvision convention: %d layers a=%g", r.n_layers, r.a[0]);
    ns_weights_free(&r);
    ns_weights_free(&w);
}

/* The names in dir, as one string ("a b c"), to see what a failed write left. */
static char *listing(const char *path) {
    static char names[4096];
    names[0] = '\0';
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? " " : "",
                     e->d_name);
    if (d) closedir(d);
    return names;
}

/* The writer: a header padded to 8 bytes, escaped metadata, nothing left
 * beside the file, and its refusals as status codes with one line that
 * names the file. */
static void test_save(void) {
    struct ns_weights w, r;
    random_weights(&w, 16, 10);
    char members[512], err[600];
    snprintf(members, sizeof members,
             NS_META_CAFFE_FMT ",\"source\":\"a \\\"quoted\\\" name, a \\\\ and \\u00e9\"", 16);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/save", dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof sub, "%s/save/save.safetensors", dir);
    CHECK(ns_weights_save(sub, &w, members, err, sizeof err) == NS_STATUS_OK, "save: %s", err);
    size_t n;
    unsigned char *bytes = read_file(sub, &n);
    uint64_t hl = header_len(bytes);
    CHECK(hl % 8 == 0 && hl < n &&
              memcmp(bytes + 8, "{\"__metadata__\":{\"architecture\":\"vgg16\"", 39) == 0,
          "header of %llu bytes: %.60s", (unsigned long long) hl, bytes + 8);
    snprintf(sub, sizeof sub, "%s/save", dir);
    CHECK(strcmp(listing(sub), "save.safetensors") == 0, "beside the saved file: %s", listing(sub));
    snprintf(sub, sizeof sub, "%s/save/save.safetensors", dir);
    CHECK(ns_weights_load(sub, &r, err, sizeof err) == NS_STATUS_OK, "saved file: %s", err);
    CHECK(r.arch == 16 && r.n_layers == 10 && strcmp(r.layer[9].name, "conv4_3") == 0 &&
              memcmp(r.layer[9].weight, w.layer[9].weight, 512 * 512 * 9 * 4) == 0,
          "saved file read back as VGG-%d, %d layers", r.arch, r.n_layers);
    ns_weights_free(&r);

    /* a write that fails half-way (the file-size limit: EFBIG, as a full
     * disk gives ENOSPC): the file there unchanged, nothing left beside it */
    struct ns_weights small;
    random_weights(&small, 19, 1);
    CHECK(ns_weights_save(sub, &small, NULL, err, sizeof err) == NS_STATUS_OK, "save a small file: %s", err);
    size_t n_before;
    unsigned char *before = read_file(sub, &n_before);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 100000;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &lim);
    enum ns_status st = ns_weights_save(sub, &w, NULL, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    CHECK(st == NS_STATUS_IO_ERROR, "a save past the file-size limit: status %d", st);
    CHECK(strstr(err, sub) && strstr(err, "too large") && strstr(err, "unchanged") && !strchr(err, '\n'),
          "a save past the file-size limit says: %s", err);
    size_t n_after;
    unsigned char *after = read_file(sub, &n_after);
    CHECK(n_after == n_before && memcmp(before, after, n_before) == 0,
          "a failed save changed the file there");
    snprintf(sub, sizeof sub, "%s/save", dir);
    CHECK(strcmp(listing(sub), "save.safetensors") == 0, "a failed save left: %s", listing(sub));
    free(before), free(after), free(bytes);
    ns_weights_free(&small);

    CHECK(ns_weights_save(tmp_path("bad-meta"), &w, "\"x\":", err, sizeof err) == NS_STATUS_INVALID_ARGUMENT,
          "bad metadata");
    CHECK(access(tmp_path("bad-meta"), F_OK) != 0, "a file written for bad metadata");
    CHECK(ns_weights_save(tmp_path("no/such/dir"), &w, NULL, err, sizeof err) == NS_STATUS_IO_ERROR &&
              strstr(err, "no/such/dir") && strstr(err, "no such file"),
          "unwritable path: %s", err);
    CHECK(ns_weights_save(dir, &w, NULL, err, sizeof err) == NS_STATUS_IO_ERROR &&
              strstr(err, "it is a folder"),
          "a folder as the path: %s", err);
    ns_weights_free(&w);
}

static void test_bad(void) {
    expect_error("missing file", tmp_path("nope.safetensors"), NS_STATUS_IO_ERROR, "cannot open");
    expect_error("a directory", dir, NS_STATUS_IO_ERROR, "not a regular file");
    write_file(tmp_path("empty"), "", 0);
    expect_error("empty file", tmp_path("empty"), NS_STATUS_BAD_WEIGHTS, "only 0 bytes");
    unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, '{', '}'};
    write_file(tmp_path("huge"), huge, sizeof huge);
    expect_error("header length past the end", tmp_path("huge"), NS_STATUS_BAD_WEIGHTS,
                 "truncated or not safetensors");
    write_st(tmp_path("json"), "{\"conv1_1.weight\": {\"dtype\":", NULL, 0);
    expect_error("bad JSON", tmp_path("json"), NS_STATUS_BAD_WEIGHTS, "not valid JSON");
    write_st(tmp_path("array"), "[1,2,3]", NULL, 0);
    expect_error("JSON array", tmp_path("array"), NS_STATUS_BAD_WEIGHTS, "not a JSON object");
    write_st(tmp_path("none"), "{\"foo\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", NULL, 4);
    expect_error("no conv tensors", tmp_path("none"), NS_STATUS_BAD_WEIGHTS, "no VGG convolution weights");
    write_st(tmp_path("nobias"), header_conv("[64,3,3,3]", "F32", false, false), NULL, 6912);
    expect_error("missing tensor", tmp_path("nobias"), NS_STATUS_BAD_WEIGHTS, "conv1_1.bias is missing");
    write_st(tmp_path("shape"), header_conv("[48,4,3,3]", "F32", true, false), NULL, 7168);
    expect_error("disagreeing shape", tmp_path("shape"), NS_STATUS_BAD_WEIGHTS, "VGG needs [64,3,3,3]");
    write_st(tmp_path("bytes"), header_conv("[64,3,3,4]", "F32", true, false), NULL, 7168);
    expect_error("shape vs bytes", tmp_path("bytes"), NS_STATUS_BAD_WEIGHTS, "its shape and dtype need");
    write_st(tmp_path("f64"),
             "{\"conv1_1.weight\":{\"dtype\":\"F64\",\"shape\":[64,3,3,3],\"data_offsets\":[0,13824]},"
             "\"conv1_1.bias\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[13824,14080]}}",
             NULL, 14080);
    expect_error("not F32", tmp_path("f64"), NS_STATUS_BAD_WEIGHTS, "not F32");
    write_st(tmp_path("dtype"), header_conv("[64,3,3,3]", "Q4", true, false), NULL, 7168);
    expect_error("unknown dtype", tmp_path("dtype"), NS_STATUS_BAD_WEIGHTS, "unknown dtype");
    write_st(tmp_path("cut"), header_conv("[64,3,3,3]", "F32", true, false), NULL, 7000);
    expect_error("data cut short", tmp_path("cut"), NS_STATUS_BAD_WEIGHTS, "truncated");
    write_st(tmp_path("gap"), header_conv("[64,3,3,3]", "F32", true, true), NULL, 302592);
    expect_error("gap in layers", tmp_path("gap"), NS_STATUS_BAD_WEIGHTS, "misses an earlier conv layer");
    write_st(tmp_path("neg"),
             "{\"conv1_1.weight\":{\"dtype\":\"F32\",\"shape\":[64,-3,3,3],\"data_offsets\":[0,6912]}}", NULL,
             6912);
    expect_error("negative dimension", tmp_path("neg"), NS_STATUS_BAD_WEIGHTS, "malformed shape");
    write_st(tmp_path("overflow"),
             "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", NULL,
             4);
    expect_error("shape overflow", tmp_path("overflow"), NS_STATUS_BAD_WEIGHTS, "impossible shape");
    write_st(tmp_path("offs"), "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", NULL, 8);
    expect_error("reversed offsets", tmp_path("offs"), NS_STATUS_BAD_WEIGHTS, "malformed data_offsets");
    write_st(tmp_path("strdt"), "{\"x\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", NULL, 4);
    expect_error("dtype not a string", tmp_path("strdt"), NS_STATUS_BAD_WEIGHTS, "lacks dtype");

    /* JSON nested past what a safetensors header needs: refused before
     * json-glib, which recurses once per level (100000 overflowed its stack) */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 16);
    memset(deep, '[', depth), memset(deep + depth, ']', depth), deep[2 * depth] = '\0';
    write_st(tmp_path("deep"), deep, NULL, 0);
    expect_error("arrays 100000 deep", tmp_path("deep"), NS_STATUS_BAD_WEIGHTS, "more than 64 levels deep");
    size_t k = 0;
    for (size_t i = 0; i < depth / 8; i++)
        k += (size_t) sprintf(deep + k, "{\"a\":");
    deep[k] = '\0';
    write_st(tmp_path("deep"), deep, NULL, 0);
    expect_error("objects 12500 deep", tmp_path("deep"), NS_STATUS_BAD_WEIGHTS, "more than 64 levels deep");
    free(deep);
    /* brackets in strings do not count; 64 levels are parsed (and refused
     * for what they are); 65 are not */
    write_st(tmp_path("deep"), "{\"[[[[\\\"[[[[\":[\"]]]][[[[\"]}", NULL, 0);
    expect_error("brackets in strings", tmp_path("deep"), NS_STATUS_BAD_WEIGHTS, "not an object");
    char nest[256];
    for (int levels = 64; levels <= 65; levels++) {
        memset(nest, '[', (size_t) levels), memset(nest + levels, ']', (size_t) levels);
        nest[2 * levels] = '\0';
        write_st(tmp_path("deep"), nest, NULL, 0);
        expect_error(levels == 64 ? "64 levels" : "65 levels", tmp_path("deep"), NS_STATUS_BAD_WEIGHTS,
                     levels == 64 ? "not a JSON object" : "more than 64 levels deep");
    }
    /* what json-glib would take as a string or a comment, hiding brackets
     * from the count, is no strict JSON */
    write_st(tmp_path("deep"), "['\"', [[[]]]]", NULL, 0);
    expect_error("a single-quoted string", tmp_path("deep"), NS_STATUS_BAD_WEIGHTS, "byte 0x27 at offset 1");
    write_st(tmp_path("deep"), "[ /* \" */ [[]]]", NULL, 0);
    expect_error("a comment", tmp_path("deep"), NS_STATUS_BAD_WEIGHTS, "not valid JSON");
    write_st(tmp_path("deep"), "{\"a\": 1}\n# \"\n", NULL, 0);
    expect_error("a # comment", tmp_path("deep"), NS_STATUS_BAD_WEIGHTS, "byte 0x23");
    /* names with newlines (JSON's \n) still give one line */
    write_st(tmp_path("newline"), "{\"conv1_1.weight\\nsecond line\":5}", NULL, 0);
    expect_error("a newline in a name", tmp_path("newline"), NS_STATUS_BAD_WEIGHTS,
                 "header entry 'conv1_1.weight?second line' is not an object");

    struct ns_weights w;
    random_weights(&w, 19, 2);
    w.layer[1].weight[100] = NAN;
    write_safetensors(tmp_path("nan"), &w, NULL);
    expect_error("NaN weight", tmp_path("nan"), NS_STATUS_BAD_WEIGHTS, "NaN or infinite");
    w.layer[1].weight[100] = 0;
    write_safetensors(tmp_path("range"), &w,
                      "\"input_channel_order\":\"BGR\",\"input_range\":\"0-255\",\"input_mean\":\"1,2,3\","
                      "\"input_std\":\"1,1,1\"");
    expect_error("bad range", tmp_path("range"), NS_STATUS_BAD_WEIGHTS, "input_range");
    write_safetensors(tmp_path("std"), &w,
                      "\"input_channel_order\":\"RGB\",\"input_range\":\"0..1\",\"input_mean\":\"1,2,3\","
                      "\"input_std\":\"1,0,1\"");
    expect_error("zero std", tmp_path("std"), NS_STATUS_BAD_WEIGHTS, "input_std");
    /* numbers that parse but would freeze or blow up the network's input */
    static const char *const degenerate[][3] = {
        {"0..255", "103.9,116.8,123.7", "1e-45,1,1"}, /* span 2.6e47 */
        {"0..255", "103.9,116.8,123.7", "1e6,1,1"},   /* span 2.6e-4 */
        {"0..1e30", "0.5,0.5,0.5", "1,1,1"},          /* not a pixel range */
        {"0..1e-9", "0,0,0", "1,1,1"},                /* nor is this */
        {"0..255", "1e9,116.8,123.7", "1,1,1"},       /* a mean outside the range */
    };
    static const char *const says[] = {"input span", "input span", "not a pixel range", "not a pixel range",
                                       "outside input_range"};
    for (size_t i = 0; i < sizeof degenerate / sizeof degenerate[0]; i++) {
        char meta[256];
        snprintf(meta, sizeof meta,
                 "\"input_channel_order\":\"BGR\",\"input_range\":\"%s\",\"input_mean\":\"%s\","
                 "\"input_std\":\"%s\"",
                 degenerate[i][0], degenerate[i][1], degenerate[i][2]);
        write_safetensors(tmp_path("degenerate"), &w, meta);
        expect_error(meta, tmp_path("degenerate"), NS_STATUS_BAD_WEIGHTS, says[i]);
    }
    write_safetensors(tmp_path("sym"), &w,
                      "\"input_channel_order\":\"RGB\",\"input_range\":\"-1..1\",\"input_mean\":\"0,0,0\","
                      "\"input_std\":\"0.5,0.5,0.5\"");
    expect_error("a -1..1 convention is fine", tmp_path("sym"), NS_STATUS_OK, "");
    write_safetensors(tmp_path("order"), &w,
                      "\"input_channel_order\":\"GBR\",\"input_range\":\"0..1\",\"input_mean\":\"1,2,3\","
                      "\"input_std\":\"1,1,1\"");
    expect_error("bad order", tmp_path("order"), NS_STATUS_BAD_WEIGHTS, "neither RGB nor BGR");
    write_safetensors(tmp_path("partial"), &w, "\"input_channel_order\":\"RGB\"");
    expect_error("partial metadata", tmp_path("partial"), NS_STATUS_BAD_WEIGHTS, "must give all of");
    write_safetensors(tmp_path("arch"), &w, "\"architecture\":\"resnet50\"");
    expect_error("architecture", tmp_path("arch"), NS_STATUS_BAD_WEIGHTS, "not vgg19 or vgg16");
    write_safetensors(tmp_path("metanum"), &w, "\"input_channel_order\":5");
    expect_error("metadata not a string", tmp_path("metanum"), NS_STATUS_BAD_WEIGHTS, "is not a string");
    ns_weights_free(&w);
}

/* Every prefix of a good file, and random mutations: an error or a sound
 * result, never a crash. */
static void test_fuzz(void) {
    struct ns_weights w;
    random_weights(&w, 19, 2);
    write_safetensors(tmp_path("seed"), &w, NULL);
    ns_weights_free(&w);
    size_t n;
    unsigned char *good = read_file(tmp_path("seed"), &n);
    uint64_t hl = header_len(good);
    char err[512];
    int accepted = 0;
    for (size_t len = 0; len < n; len += (len < 8 + hl + 64 ? 1 : 4099)) {
        write_file(tmp_path("prefix"), good, len);
        enum ns_status st = ns_weights_load(tmp_path("prefix"), &w, err, sizeof err);
        CHECK(st != NS_STATUS_OK, "a %zu-byte prefix of a %zu-byte file was accepted", len, n);
        if (!st) ns_weights_free(&w);
    }
    unsigned char *buf = malloc(n);
    for (int it = 0; it < 3000; it++) {
        memcpy(buf, good, n);
        int flips = 1 + (int) (rnd_u64() % 8);
        for (int k = 0; k < flips; k++) {
            /* mostly the header, where the parser lives; sometimes the data */
            size_t pos = rnd_u64() % 4 ? rnd_u64() % (8 + hl) : rnd_u64() % n;
            switch (rnd_u64() % 4) {
            case 0:
                buf[pos] = (unsigned char) rnd_u64();
                break;
            case 1:
                buf[pos] ^= (unsigned char) (1u << (rnd_u64() % 8));
                break;
            case 2:
                buf[pos] = "{}[]\":,0123456789-eE."[rnd_u64() % 21];
                break;
            default:
                buf[pos] = 0;
                break;
            }
        }
        size_t len = rnd_u64() % 10 ? n : rnd_u64() % n;
        write_file(tmp_path("fuzz"), buf, len);
        enum ns_status st = ns_weights_load(tmp_path("fuzz"), &w, err, sizeof err);
        if (st == NS_STATUS_OK) {
            accepted++;
            bool sane = w.n_layers >= 1 && w.n_layers <= 2;
            for (int l = 0; l < w.n_layers; l++)
                sane = sane && all_finite(w.layer[l].weight, (size_t) w.layer[l].cout * w.layer[l].cin * 9);
            CHECK(sane, "fuzz case %d accepted with unsound weights", it);
            ns_weights_free(&w);
        } else {
            CHECK(err[0] != '\0', "fuzz case %d: an error without a message", it);
        }
    }
    printf("fuzz: 3000 mutations, %d still loadable (data-only changes), no crash\n", accepted);
    free(buf);
    free(good);
}

/* A file rewritten while it is read (a second install copying over it): the
 * loader reads with pread, so a shrunk file is a message, never SIGBUS (the
 * mapping it used before faulted in 647 of 1694 loads under cp). */
struct rewriter {
    const char *path;
    unsigned char *bytes;
    size_t n;
    volatile int stop;
};

static void *rewrite_loop(void *arg) {
    struct rewriter *rw = arg;
    while (!rw->stop) {
        int fd = open(rw->path, O_WRONLY | O_TRUNC);
        if (fd < 0) break;
        /* as cp does: truncate, then write in pieces */
        for (size_t off = 0; off < rw->n && !rw->stop; off += 65536) {
            size_t k = rw->n - off < 65536 ? rw->n - off : 65536;
            if (write(fd, rw->bytes + off, k) != (ssize_t) k) break;
        }
        close(fd);
        usleep(500); /* a moment whole, so that some loads see it so */
    }
    return NULL;
}

static void test_rewritten_while_read(void) {
    struct ns_weights w, r;
    random_weights(&w, 19, 4);
    write_safetensors(tmp_path("race.safetensors"), &w, NULL);
    ns_weights_free(&w);
    struct rewriter rw = {tmp_path("race.safetensors"), NULL, 0, 0};
    char path[512];
    snprintf(path, sizeof path, "%s", rw.path);
    rw.path = path;
    rw.bytes = read_file(path, &rw.n);
    pthread_t t;
    pthread_create(&t, NULL, rewrite_loop, &rw);
    int ok = 0, failed = 0, other = 0;
    for (int i = 0; i < 400; i++) {
        char err[512];
        enum ns_status st = ns_weights_load(path, &r, err, sizeof err);
        if (st == NS_STATUS_OK)
            ok++, ns_weights_free(&r);
        else if (st == NS_STATUS_IO_ERROR || st == NS_STATUS_BAD_WEIGHTS)
            failed++;
        else
            other++;
    }
    rw.stop = 1;
    pthread_join(t, NULL);
    free(rw.bytes);
    printf("file rewritten while read: %d loads whole, %d refused with a message\n", ok, failed);
    CHECK(other == 0, "%d loads failed with an unexpected status", other);
}

static void test_context_messages(void) {
    char home[300];
    snprintf(home, sizeof home, "%s/home", dir);
    mkdir(home, 0700);
    setenv("HOME", home, 1);
    unsetenv("XDG_DATA_HOME");
    unsetenv("NS_WEIGHTS");
    struct ns_context *ctx = NULL;
    if (access("/usr/local/share/neural-style/vgg19.safetensors", F_OK) == 0 ||
        access("/usr/share/neural-style/vgg19.safetensors", F_OK) == 0) {
        printf("skipping the no-weights message check: weights are installed system-wide\n");
    } else {
        enum ns_status st = ns_context_new(NULL, NS_BACKEND_CPU, &ctx);
        CHECK(st == NS_STATUS_IO_ERROR, "no weights anywhere: status %d", st);
        CHECK(ctx && strstr(ns_last_error(ctx), "./install.sh") && strstr(ns_last_error(ctx), home),
              "no-weights message must say how to install and where it looked: %s",
              ctx ? ns_last_error(ctx) : "");
        ns_context_free(ctx);
    }
    enum ns_status st = ns_context_new(tmp_path("nan"), NS_BACKEND_CPU, &ctx);
    CHECK(st == NS_STATUS_BAD_WEIGHTS && strstr(ns_last_error(ctx), "NaN"),
          "corrupt weights via the context: %s", ns_last_error(ctx));
    ns_context_free(ctx);
    st = ns_context_new(tmp_path("good.safetensors"), NS_BACKEND_CPU, &ctx);
    CHECK(st == NS_STATUS_OK, "good weights via the context: %s", ns_last_error(ctx));
    CHECK(strcmp(ns_context_layers(ctx), "relu1_1,relu1_2,relu2_1") == 0, "layers: %s",
          ns_context_layers(ctx));
    CHECK(strcmp(ns_context_default_content_layers(ctx), "relu2_1") == 0 &&
              strcmp(ns_context_default_style_layers(ctx), "relu1_1,relu2_1") == 0,
          "defaults for a 3-layer file: content %s style %s", ns_context_default_content_layers(ctx),
          ns_context_default_style_layers(ctx));
    ns_context_free(ctx);
    /* NS_WEIGHTS wins */
    setenv("NS_WEIGHTS", tmp_path("good.safetensors"), 1);
    char *found = ns_find_weights();
    CHECK(found && strcmp(found, tmp_path("good.safetensors")) == 0, "NS_WEIGHTS not honoured: %s", found);
    free(found);
    unsetenv("NS_WEIGHTS");
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/ns-test-weights-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_good();
    test_bad();
    test_fuzz();
    test_save();
    test_rewritten_while_read();
    test_context_messages();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    return test_summary("test_weights");
}

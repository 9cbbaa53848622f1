/* file.c - files written whole or not at all (ns_file_*, see ns.h).
 *
 * The new file is anonymous (O_TMPFILE) until it is complete, so a crash or
 * SIGKILL at any point leaves nothing behind; it gets a random name only for
 * the instant between linkat and rename.  Where the file system has no
 * O_TMPFILE, a random ".NAME.XXXXXX" is created O_EXCL|O_NOFOLLOW and
 * removed on every failure (SIGKILL during the write can leave it). */
#include "ns.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ns_file {
    char *path, *dir, *tmp; /* tmp: the named temporary, NULL while anonymous */
    int fd, dir_fd;
    int error; /* the first errno, 0 while all is well */
};

const char *ns_errno_str(int errnum) {
    switch (errnum) {
    case ENOSPC: return "no space left on the device";
    case EDQUOT: return "the disk quota is exceeded";
    case EACCES:
    case EPERM: return "permission denied";
    case EROFS: return "the file system is read-only";
    case ENOENT: return "no such file or folder";
    case ENOTDIR: return "a part of the path is not a folder";
    case EISDIR: return "it is a folder";
    case EIO: return "an input/output error (a failing disk or a lost connection?)";
    case EFBIG: return "the file is too large for the file system";
    case ENAMETOOLONG: return "the name is too long";
    case ENOMEM: return "not enough memory";
    case ELOOP: return "too many symbolic links";
    default: return g_strerror(errnum);
    }
}

static void fail(struct ns_file *f, int errnum) {
    if (!f->error) f->error = errnum ? errnum : EIO;
}

/* A name no other process guesses: 12 random letters. */
static char *random_name(const char *path) {
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char suffix[13];
    for (int i = 0; i < 12; i++)
        suffix[i] = abc[g_random_int_range(0, sizeof abc - 1)];
    suffix[12] = '\0';
    char *base = g_path_get_basename(path);
    char *name = g_strdup_printf(".%s.%s.partial", base, suffix);
    g_free(base);
    return name;
}

/* The umask, read without changing it (umask() would, for every thread
 * for an instant: the plug-in writes from its preview thread). */
static mode_t current_umask(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    unsigned int mask = 0;
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = sscanf(line, "Umask: %o", &mask) == 1;
    if (f) fclose(f);
    if (found) return (mode_t) mask;
    mode_t m = umask(022); /* kernels before 4.7 */
    umask(m);
    return m;
}

/* The mode of an existing target, else 0666 less the umask. */
static mode_t mode_for(int dir_fd, const char *base, uid_t *uid, gid_t *gid, bool *exists) {
    struct stat st;
    *exists = fstatat(dir_fd, base, &st, 0) == 0 && S_ISREG(st.st_mode);
    if (*exists) {
        *uid = st.st_uid, *gid = st.st_gid;
        return st.st_mode & 07777;
    }
    return 0666 & ~current_umask();
}

static int open_named(struct ns_file *f) {
    for (int tries = 0; tries < 100; tries++) {
        g_free(f->tmp);
        f->tmp = random_name(f->path);
        int fd = openat(f->dir_fd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

enum ns_status ns_file_begin(const char *path, struct ns_file **out, char *err, size_t err_len) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "cannot write '%s': it is a folder", path);
        return NS_STATUS_IO_ERROR;
    }
    struct ns_file *f = g_new0(struct ns_file, 1);
    f->path = g_strdup(path);
    f->dir = g_path_get_dirname(path);
    f->fd = -1;
    f->dir_fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dir_fd < 0) {
        snprintf(err, err_len, "cannot write '%s': its folder '%s': %s", path, f->dir, ns_errno_str(errno));
        ns_file_abort(f);
        return NS_STATUS_IO_ERROR;
    }
    f->fd = openat(f->dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (f->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOENT))
        f->fd = open_named(f);
    if (f->fd < 0) {
        snprintf(err, err_len, "cannot write '%s': %s", path, ns_errno_str(errno));
        ns_file_abort(f);
        return NS_STATUS_IO_ERROR;
    }
    *out = f;
    return NS_STATUS_OK;
}

void ns_file_write(struct ns_file *f, const void *data, size_t n) {
    const char *p = data;
    while (n && !f->error) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            fail(f, w < 0 ? errno : ENOSPC);
            return;
        }
        p += w, n -= (size_t) w;
    }
}

void ns_file_printf(struct ns_file *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    ns_file_write(f, s, strlen(s));
    g_free(s);
}

void ns_file_abort(struct ns_file *f) {
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    if (f->tmp && f->dir_fd >= 0) unlinkat(f->dir_fd, f->tmp, 0);
    if (f->dir_fd >= 0) close(f->dir_fd);
    g_free(f->path), g_free(f->dir), g_free(f->tmp), g_free(f);
}

/* Gives the anonymous file a random name in the folder (linkat through
 * /proc, which needs no privilege). */
static bool link_anonymous(struct ns_file *f) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
    for (int tries = 0; tries < 100; tries++) {
        g_free(f->tmp);
        f->tmp = random_name(f->path);
        if (linkat(AT_FDCWD, proc, f->dir_fd, f->tmp, AT_SYMLINK_FOLLOW) == 0) return true;
        if (errno != EEXIST) break;
    }
    g_clear_pointer(&f->tmp, g_free);
    return false;
}

enum ns_status ns_file_commit(struct ns_file *f, char *err, size_t err_len) {
    char *base = g_path_get_basename(f->path);
    uid_t uid = (uid_t) -1;
    gid_t gid = (gid_t) -1;
    bool exists;
    mode_t mode = mode_for(f->dir_fd, base, &uid, &gid, &exists);
    if (!f->error && fchmod(f->fd, mode) != 0) fail(f, errno);
    /* root keeps the owner of the file it replaces; others cannot, and need not */
    if (!f->error && exists && geteuid() == 0 && fchown(f->fd, uid, gid) != 0) fail(f, errno);
    if (!f->error && fsync(f->fd) != 0) fail(f, errno);
    if (!f->error && !f->tmp && !link_anonymous(f)) fail(f, errno);
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0) fail(f, errno);
    if (!f->error && renameat(f->dir_fd, f->tmp, f->dir_fd, base) != 0) fail(f, errno);
    g_free(base);
    if (f->error) {
        snprintf(err, err_len, "cannot write '%s': %s%s", f->path, ns_errno_str(f->error),
                 exists ? "; the file there is unchanged" : "");
        ns_file_abort(f);
        return NS_STATUS_IO_ERROR;
    }
    g_clear_pointer(&f->tmp, g_free); /* renamed: nothing to remove */
    fsync(f->dir_fd);                 /* the rename itself on disk */
    ns_file_abort(f);
    return NS_STATUS_OK;
}

enum ns_status ns_write_file(const char *path, const void *data, size_t n, char *err, size_t err_len) {
    struct ns_file *f;
    enum ns_status st = ns_file_begin(path, &f, err, err_len);
    if (st) return st;
    ns_file_write(f, data, n);
    return ns_file_commit(f, err, err_len);
}

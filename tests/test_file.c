/* test_file.c - ns_write_file and ns_file_*: whole files or none. */
#include "ns.h"
#include "testlib.h"

#include <errno.h>

#define OK(cond) CHECK(cond, "%s", #cond)

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return n;
}

static char *slurp(const char *path) {
    static char buf[256];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

int main(void) {
    char dir[] = "/tmp/ns-test-file-XXXXXX", path[256], err[512];
    OK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/a.txt", dir);

    OK(ns_write_file(path, "hello", 5, err, sizeof err) == NS_STATUS_OK);
    OK(!strcmp(slurp(path), "hello"));
    OK(entries(dir) == 1);

    /* replaced whole, its mode kept */
    OK(chmod(path, 0640) == 0);
    OK(ns_write_file(path, "again", 5, err, sizeof err) == NS_STATUS_OK);
    struct stat st;
    OK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
    OK(!strcmp(slurp(path), "again"));

    /* a stream, then dropped: the old file stays, nothing is left */
    struct ns_file *f = NULL;
    OK(ns_file_begin(path, &f, err, sizeof err) == NS_STATUS_OK);
    ns_file_printf(f, "%s %d", "half", 1);
    ns_file_abort(f);
    OK(!strcmp(slurp(path), "again"));
    OK(entries(dir) == 1);
    OK(ns_file_begin(path, &f, err, sizeof err) == NS_STATUS_OK);
    ns_file_printf(f, "%s-%d", "line", 2);
    OK(ns_file_commit(f, err, sizeof err) == NS_STATUS_OK);
    OK(!strcmp(slurp(path), "line-2"));

    /* a missing folder and a folder as the target: refused, naming the file */
    char bad[400];
    snprintf(bad, sizeof bad, "%s/no/b.txt", dir);
    OK(ns_write_file(bad, "x", 1, err, sizeof err) == NS_STATUS_IO_ERROR);
    OK(strstr(err, bad) && strstr(err, "no such file or folder"));
    OK(ns_write_file(dir, "x", 1, err, sizeof err) == NS_STATUS_IO_ERROR);
    OK(strstr(err, "it is a folder"));

    /* a symbolic link as the target: replaced, its target untouched */
    char victim[300], link_path[300];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(link_path, sizeof link_path, "%s/link.txt", dir);
    OK(ns_write_file(victim, "victim", 6, err, sizeof err) == NS_STATUS_OK);
    OK(symlink(victim, link_path) == 0);
    OK(ns_write_file(link_path, "new", 3, err, sizeof err) == NS_STATUS_OK);
    OK(!strcmp(slurp(victim), "victim") && !strcmp(slurp(link_path), "new"));
    OK(lstat(link_path, &st) == 0 && S_ISREG(st.st_mode));
    OK(entries(dir) == 3);

    /* a read-only folder (not as root, who may write anyway) */
    if (geteuid() != 0) {
        char ro[200];
        snprintf(ro, sizeof ro, "%s/ro", dir);
        OK(mkdir(ro, 0555) == 0);
        snprintf(bad, sizeof bad, "%s/c.txt", ro);
        OK(ns_write_file(bad, "x", 1, err, sizeof err) == NS_STATUS_IO_ERROR && strstr(err, "permission denied"));
        rmdir(ro);
    }
    OK(!strcmp(ns_errno_str(ENOSPC), "no space left on the device"));

    unlink(path), unlink(link_path), unlink(victim), rmdir(dir);
    return test_summary("file");
}

#pragma once

/* A unit test's scratch folder, and small files read back from it. Header-only. */

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

/* Creates "$TMPDIR/NAME.XXXXXX" (or under /tmp) and returns its path, owned by the caller; bails
 * out of the test when it cannot. */
static inline char *scratch_new(const char *name) {
        char *path;

        if (asprintf(&path, "%s/%s.XXXXXX", getenv("TMPDIR") ?: "/tmp", name) < 0 || !mkdtemp(path)) {
                printf("Bail out! cannot create a scratch folder for %s\n", name);
                exit(1);
        }
        return path;
}

static inline int scratch_remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st;
        (void) type;
        (void) ftw;
        (void) remove(path);
        return 0;
}

/* Removes the scratch folder and all below it, symlinks not followed; with KEEP_TMP set in the
 * environment, keeps it and says where it is. */
static inline void scratch_remove(const char *path) {
        if (!path)
                return;
        if (getenv("KEEP_TMP")) {
                printf("# kept %s\n", path);
                return;
        }
        (void) nftw(path, scratch_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A small file read whole into a static buffer (4 KiB at most; the next call overwrites it), or
 * NULL when it cannot be read: the test's own reader, independent of the code under test. */
static inline const char *read_small_file(const char *path) {
        static char buf[4096];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n < 0)
                return NULL;
        buf[n] = '\0';
        return buf;
}

/* How many entries of 'dir' have a name that starts with 'prefix', "." and ".." never counted (so
 * "." counts the hidden entries: temporaries); -1 when 'dir' cannot be read. */
static inline int count_entries(const char *dir, const char *prefix) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 && strcmp(de->d_name, ".") != 0 &&
                    strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

#pragma once

/* Reading the good and bad corpora of tests/data/: sorted folder listings, whole files, and the
 * errors a bad file expects (NAME.expect, or the file's leading "# expect: " comment lines).
 * Header-only, for test-config.c, test-manifest.c and test-yaml-read.c. */

#include <assert.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"
#include "yaml-read.h"

static inline void diags_donep(struct yaml_read_diags *d) {
        yaml_read_diags_done(d);
}

static inline int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The entries of a corpus folder, sorted, dot names skipped; only names ending in 'suffix' unless it
 * is NULL. NULL-terminated (empty when the folder cannot be read), owned by the caller. Makes one
 * TAP check of its own: the folder yields at least one entry, for a corpus that is missing or
 * empty would otherwise pass with nothing tested. */
static inline char **list_sorted(const char *dir, const char *suffix, size_t *ret_n) {
        _cleanup_free_ char *full = realpath(dir, NULL);
        const char *where = full ? full : dir, *data = strstr(where, "/tests/data/");
        DIR *d = opendir(dir);
        char **l = calloc(1, sizeof(char *));
        size_t n = 0;
        struct dirent *de;

        assert(l);
        if (data)
                where = data + strlen("/tests/data/");
        while (d && (de = readdir(d))) {
                size_t len = strlen(de->d_name);

                if (de->d_name[0] == '.')
                        continue;
                if (suffix && (len < strlen(suffix) || !streq(de->d_name + len - strlen(suffix), suffix)))
                        continue;
                l = reallocarray(l, n + 2, sizeof(char *));
                assert(l);
                l[n] = strdup(de->d_name);
                assert(l[n]);
                l[++n] = NULL;
        }
        if (d)
                closedir(d);
        if (n > 0)
                qsort(l, n, sizeof(char *), strcmp_ptr);
        if (!ok(n > 0, "corpus %s is not empty (%zu entries%s%s)", where, n, suffix ? " named *" : "",
                suffix ? suffix : ""))
                diag("%s", d ? "the folder is empty" : "the folder cannot be read");
        *ret_n = n;
        return l;
}

/* The whole file (up to 1 MiB), NUL-terminated, or NULL when it cannot be opened. */
static inline char *read_all(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;

        if (!f)
                return NULL;
        buf = malloc(1024 * 1024);
        assert(buf);
        size = fread(buf, 1, 1024 * 1024 - 1, f);
        buf[size] = 0;
        fclose(f);
        return buf;
}

/* The expected errors of a bad input, one a line: NAME.expect when it exists, else the file's
 * leading "# expect: " comment lines. */
static inline char *expected_errors(const char *name) {
        _cleanup_free_ char *sidecar = NULL, *text = NULL;
        char *out, *p;

        assert_se(asprintf(&sidecar, "%s.expect", name) >= 0);
        out = read_all(sidecar);
        if (out)
                return out;
        text = read_all(name);
        assert(text);
        out = calloc(1, strlen(text) + 1);
        assert(out);
        p = out;
        for (const char *line = text; startswith(line, "# expect: ");) {
                const char *start = line + strlen("# expect: "), *end = strchr(start, '\n');

                if (!end)
                        break;
                memcpy(p, start, (size_t) (end - start + 1));
                p += end - start + 1;
                line = end + 1;
        }
        return out;
}

/* Every message's text, one a line, as one string owned by the caller. */
static inline char *joined(const struct yaml_read_diags *d) {
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);

        assert(f);
        for (size_t i = 0; i < d->n_items; i++)
                fprintf(f, "%s\n", d->items[i].text);
        fclose(f);
        return s;
}

/* Test helper: loads manifests with the real reader, prints every error on stdout, one a line,
 * and exits 0 when PATH is valid, 1 when it is not, 2 on usage or memory errors.
 *
 *     manifest-check PATH
 *
 * With --summary, a valid load also prints "SETS CONNECTORS" on stdout. */

#include <stdio.h>
#include <string.h>

#include "manifest.h"
#include "util.h"
#include "yaml-read.h"

static void diags_donep(struct yaml_read_diags *d) {
        yaml_read_diags_done(d);
}

int main(int argc, char **argv) {
        _cleanup_(diags_donep) struct yaml_read_diags errors = {};
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        bool summary = false;
        const char *path;
        int r;

        if (argc == 3 && streq(argv[1], "--summary"))
                summary = true;
        else if (argc != 2) {
                fprintf(stderr, "Usage: %s [--summary] PATH\n", argv[0]);
                return 2;
        }
        path = argv[argc - 1];

        r = manifest_load(path, &m, &errors);
        for (size_t i = 0; i < errors.n_items; i++)
                printf("%s\n", errors.items[i].text);
        if (r == -ENOMEM) {
                fprintf(stderr, "Out of memory\n");
                return 2;
        }
        if (r < 0)
                return 1;
        if (summary)
                printf("%zu %zu\n", m->n_sets, m->n_declared);
        return 0;
}

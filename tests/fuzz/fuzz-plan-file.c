/* libFuzzer target: a saved plan as `once --plan FILE` reads it. plan_file_parse() takes any
 * bytes; what it accepts must hold what the comparison relies on (deletions sorted by id, each
 * once, none empty), and a saved plan with deletions never matches an empty plan made now. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan-file.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(plan_file_freep) struct plan_file *f = NULL;
        _cleanup_free_ char *msg = NULL, *diff = NULL;
        struct plan empty = {};
        const struct plan_file_context ctx = { .cluster_uuid = "u", .manifests_digest = "d" };
        int r;

        r = plan_file_parse((const char *) data, size, "fuzz.plan.json", &f, &msg);
        if (r < 0) {
                if (r != -EBADMSG && r != -ENOMEM)
                        abort();
                return 0;
        }
        if (!f || !f->manifests_digest)
                abort();
        for (size_t i = 0; i < f->n_deletes; i++)
                if (!f->deletes[i].id || !*f->deletes[i].id ||
                    (i > 0 && strcmp(f->deletes[i - 1].id, f->deletes[i].id) >= 0))
                        abort();
        r = plan_file_matches(f, &empty, &ctx, &diff);
        if (r < 0 || (f->n_deletes > 0 && r != 0) || (r == 0 && !diff))
                abort();
        return 0;
}

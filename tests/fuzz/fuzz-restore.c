/* libFuzzer target: a backup file as restore reads it. backup_parse() takes any bytes; what it
 * accepts goes to restore_plan_build() on the versions that differ (8.12, 8.13, 8.14, 8.15, 9.0),
 * and its document is then checked against itself and against the input read as a connector.
 * Checks what restore relies on: an accepted backup has a connector id and a document; the plan
 * starts with the create, its bodies are JSON objects and never carry the id or a runtime field;
 * a document restored whole reads back with nothing differing; and a skipped step has a reason
 * and no body. */

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "restore.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_body(const struct restore_step *s) {
        cJSON *j;

        if (s->skipped) {
                if (s->body)
                        abort();
                return;
        }
        j = s->body ? cJSON_ParseWithLength(s->body, s->body_size) : NULL;
        if (!cJSON_IsObject(j) || strlen(s->body) != s->body_size)
                abort();
        if (cJSON_GetObjectItemCaseSensitive(j, "id") || cJSON_GetObjectItemCaseSensitive(j, "status") ||
            cJSON_GetObjectItemCaseSensitive(j, "deleted") ||
            cJSON_GetObjectItemCaseSensitive(j, "last_seen"))
                abort();
        cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const unsigned versions[][2] = { { 8, 12 }, { 8, 13 }, { 8, 14 }, { 8, 15 }, { 9, 0 } };
        _cleanup_(backup_contents_done) struct backup_contents b = {};
        _cleanup_free_ char *msg = NULL;

        if (backup_parse((const char *) data, size, &b, &msg) < 0)
                return 0;
        if (!b.connector_id || !b.document || strlen(b.document) != b.document_size)
                abort();

        for (size_t v = 0; v < ELEMENTSOF(versions); v++) {
                struct cluster_info info = { .major = versions[v][0], .minor = versions[v][1] };
                _cleanup_(restore_plan_done) struct restore_plan p = {};
                _cleanup_(restore_check_done) struct restore_check c = {}, c2 = {};
                _cleanup_free_ char *m = NULL, *m2 = NULL;

                if (restore_plan_build(b.document, b.document_size, &info, &p, &m) < 0)
                        continue;
                if (p.n_steps == 0 || p.steps[0].endpoint || !streq(p.steps[0].name, "create"))
                        abort();
                for (size_t i = 0; i < p.n_steps; i++) {
                        _cleanup_free_ char *shown = NULL;

                        check_body(&p.steps[i]);
                        shown = restore_step_body_for_display(&p.steps[i]);
                        if (!p.steps[i].skipped && !shown)
                                abort();
                }
                if (restore_check_build(b.document, b.document_size, b.document, b.document_size, &p, &c,
                                        &m2) < 0)
                        abort(); /* the document was read once already */
                if (c.n_differ != 0)
                        abort(); /* a connector restored whole differs in nothing */
                (void) restore_check_build(b.document, b.document_size, (const char *) data, size, &p, &c2,
                                           &msg);
        }
        return 0;
}

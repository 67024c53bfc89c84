/* libFuzzer target: the manifest reader on arbitrary bytes, as one file. Checks that a refusal
 * is always explained and that a success returns consistent sets and locations. */

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "util.h"
#include "yaml-read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct yaml_read_diags errors = {};
        struct manifest *m = NULL;
        int r;

        r = manifest_parse("fuzz.yaml", data, size, &m, &errors);
        assert(r >= 0 ? m && errors.n_items == 0 : !m && (r == -ENOMEM || errors.n_total > 0));
        for (size_t i = 0; i < errors.n_items; i++)
                assert(errors.items[i].text && !strchr(errors.items[i].text, '\n'));
        if (m) {
                size_t declared = 0;

                for (size_t i = 0; i < m->n_sets; i++) {
                        assert(m->sets[i].name);
                        assert(m->sources[i].set.line > 0);
                        for (size_t j = 0; j < m->sets[i].n_connectors; j++) {
                                size_t s, k;

                                assert(m->sets[i].connectors[j].id);
                                assert(m->sources[i].connectors[j].line > 0);
                                /* Ids are unique in a valid load: each finds itself. */
                                assert(manifest_find(m, m->sets[i].connectors[j].id, &s, &k) && s == i &&
                                       k == j);
                                declared++;
                        }
                }
                assert(declared == m->n_declared);
        }
        manifest_free(m);
        yaml_read_diags_done(&errors);
        return 0;
}

/* libFuzzer target: the config reader on arbitrary bytes. Loads without secrets (nothing is
 * read from disk but the input), then frees everything; leaks and memory errors are what the
 * sanitizers look for. */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"
#include "yaml-read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct yaml_read_diags warnings = {}, errors = {};
        struct config *c = NULL;
        int r;

        /* A path with a folder, so that relative paths are resolved too. */
        r = config_parse("/etc/connector-reconciler/config.yaml", data, size, NULL, &c, &warnings, &errors);
        /* Every refusal is explained; success comes with a config and no error. */
        assert(r >= 0 ? c && errors.n_items == 0 : !c && (r == -ENOMEM || errors.n_total > 0));
        for (size_t i = 0; i < errors.n_items; i++)
                assert(errors.items[i].text && !strchr(errors.items[i].text, '\n'));
        config_free(c);
        yaml_read_diags_done(&warnings);
        yaml_read_diags_done(&errors);
        return 0;
}

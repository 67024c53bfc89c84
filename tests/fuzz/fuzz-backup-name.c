/* libFuzzer target: a connector id (any bytes the cluster may hold, NUL aside) turned into a backup
 * file name. Checks what keeps an id from escaping backup_dir or taking another id's backup: the
 * name is one path component of safe bytes ([A-Za-z0-9_.-], '%' escapes, a '~' before the hash of
 * a cut name), never starts with '.', is at most BACKUP_ID_NAME_MAX bytes, and reads back as the
 * id (wholly, or up to the cut). Seeded with ids that hold '/', "..", '%', control bytes and
 * long UTF-8. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *id = NULL, *name = NULL, *decoded = NULL;
        const char *cut;
        size_t n, kept, o = 0;

        if (size == 0 || memchr(data, 0, size))
                return 0; /* ids are non-empty C strings */
        id = malloc(size + 1);
        if (!id)
                return 0;
        memcpy(id, data, size);
        id[size] = '\0';

        name = backup_escape_id(id);
        if (!name)
                return 0;
        n = strlen(name);

        assert(n > 0 && n <= BACKUP_ID_NAME_MAX);
        assert(name[0] != '.');
        assert(!strchr(name, '/'));
        assert(strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-%~") == n);

        /* A cut name ends in '~' and 16 hex digits; nothing else holds a '~'. */
        cut = strchr(name, '~');
        if (cut) {
                assert(strlen(cut) == 17);
                assert(strspn(cut + 1, "0123456789abcdef") == 16);
        }
        kept = cut ? (size_t) (cut - name) : n;

        /* Unescaping gives the id back (its beginning, when cut): one id, one name. */
        decoded = malloc(kept + 1);
        if (!decoded)
                return 0;
        for (size_t i = 0; i < kept; i++) {
                if (name[i] == '%') {
                        int hi, lo;

                        assert(i + 2 < kept);
                        hi = unhex(name[i + 1]);
                        lo = unhex(name[i + 2]);
                        assert(hi >= 0 && lo >= 0);
                        decoded[o++] = (char) (hi << 4 | lo);
                        i += 2;
                } else
                        decoded[o++] = name[i];
        }
        decoded[o] = '\0';
        if (cut)
                assert(o < size && memcmp(decoded, id, o) == 0);
        else
                assert(o == size && memcmp(decoded, id, size) == 0);
        return 0;
}

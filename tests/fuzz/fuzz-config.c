/* libFuzzer target: the config reader on arbitrary bytes. Loads without secrets (nothing is
 * read from disk but the input), then frees everything; leaks and memory errors are what the
 * sanitizers look for. Also checks that a cluster.url or cluster.proxy holding user info (a
 * password, perhaps) is never quoted whole by a message about it. */

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "util.h"
#include "yaml-read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of 'key' in the mapping 'map', when it is a scalar. */
static const struct yaml_read_node *scalar_of(const struct yaml_read_node *map, const char *key) {
        if (!map || map->kind != YAML_READ_MAPPING)
                return NULL;
        for (size_t i = 0; i + 1 < map->n_children; i += 2)
                if (streq(map->children[i]->value, key))
                        return map->children[i + 1]->kind == YAML_READ_SCALAR ? map->children[i + 1] : NULL;
        return NULL;
}

static const struct yaml_read_node *mapping_of(const struct yaml_read_node *map, const char *key) {
        if (!map || map->kind != YAML_READ_MAPPING)
                return NULL;
        for (size_t i = 0; i + 1 < map->n_children; i += 2)
                if (streq(map->children[i]->value, key))
                        return map->children[i + 1];
        return NULL;
}

/* True when the URL holds user info: an '@' after "SCHEME://" (or from the start) and before the
 * first '/', preceded by something other than '*' (what the messages show instead). */
static bool has_user_info(const char *s) {
        const char *start = s, *at = NULL;
        size_t n = 0;

        while (isalnum((unsigned char) s[n]) || (s[n] && strchr("+-.", s[n])))
                n++;
        if (startswith(s + n, "://"))
                start = s + n + 3;
        for (const char *c = start; *c && *c != '/'; c++)
                if (*c == '@')
                        at = c;
        if (!at || at == start)
                return false;
        for (const char *c = start; c < at; c++)
                if (*c == '*')
                        return false;
        return true;
}

/* No message at the value's position quotes the value whole when it holds user info. */
static void check_not_quoted(const struct yaml_read_node *n, const struct yaml_read_diags *d) {
        if (!n || !has_user_info(n->value))
                return;
        for (size_t i = 0; i < d->n_items; i++)
                if (d->items[i].line == n->line && d->items[i].column == n->column)
                        assert(!strstr(d->items[i].text, n->value));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct yaml_read_diags warnings = {}, errors = {}, ignored = {};
        struct yaml_read_stream *s = NULL;
        struct config *c = NULL;
        int r;

        /* A path with a folder, so that relative paths are resolved too. */
        r = config_parse("/etc/connector-reconciler/config.yaml", data, size, NULL, &c, &warnings, &errors);
        /* Every refusal is explained; success comes with a config and no error. */
        assert(r >= 0 ? c && errors.n_items == 0 : !c && (r == -ENOMEM || errors.n_total > 0));
        for (size_t i = 0; i < errors.n_items; i++)
                assert(errors.items[i].text && !strchr(errors.items[i].text, '\n'));
        if (c)
                assert(c->state_dir && c->backup_dir &&
                       !!c->confirm_removed_sets == (c->n_confirm_removed_sets > 0));

        /* The same input read as YAML alone, to find the values the messages must not quote. */
        if (yaml_read_buffer("f", data, size, &s, &ignored) >= 0 && s->n_documents == 1) {
                const struct yaml_read_node *cluster = mapping_of(s->documents[0], "cluster");

                check_not_quoted(scalar_of(cluster, "url"), &errors);
                check_not_quoted(scalar_of(cluster, "proxy"), &errors);
                check_not_quoted(scalar_of(cluster, "url"), &warnings);
                check_not_quoted(scalar_of(cluster, "proxy"), &warnings);
        }

        yaml_read_stream_free(s);
        config_free(c);
        yaml_read_diags_done(&warnings);
        yaml_read_diags_done(&errors);
        yaml_read_diags_done(&ignored);
        return 0;
}

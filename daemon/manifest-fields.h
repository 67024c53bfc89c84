#pragma once

/* The fields a declared connector may manage (spec.connectors[].language, is_native, pipeline,
 * scheduling, features, filtering, configuration; connector-reconciler-manifest(5), MANAGED
 * FIELDS), read from their YAML into the JSON the connector API speaks, each checked against the
 * shape Elasticsearch takes, with every error named by file, line, column and key. */

#include <stdbool.h>
#include <stddef.h>

#include "yaml-read.h"

/* The keys of a declared connector besides id, name, description, service_type and index_name. */
enum manifest_field {
        MANIFEST_FIELD_LANGUAGE,
        MANIFEST_FIELD_IS_NATIVE,
        MANIFEST_FIELD_PIPELINE,
        MANIFEST_FIELD_SCHEDULING,
        MANIFEST_FIELD_FEATURES,
        MANIFEST_FIELD_FILTERING,
        MANIFEST_FIELD_CONFIGURATION,
        _MANIFEST_FIELD_MAX,
};

/* The key of each, in that order. */
extern const char *const manifest_field_keys[_MANIFEST_FIELD_MAX];

/* The JSON being built for one declared connector: an object of its managed fields. */
struct manifest_fields;

int manifest_fields_new(struct manifest_fields **ret);
struct manifest_fields *manifest_fields_free(struct manifest_fields *f);
static inline void manifest_fields_freep(struct manifest_fields **f) {
        if (*f)
                (void) manifest_fields_free(*f);
}

/* Adds a string field already read (name, description, service_type, index_name). 0 or -ENOMEM. */
int manifest_fields_add_string(struct manifest_fields *f, const char *key, const char *value);

/* Reads the value 'n' of field 'which' at 'path' (e.g. "spec.connectors[3]"), reporting what is
 * wrong into 'errors' as "FILE:LINE:COLUMN: message" naming the full key. Returns 0, -EINVAL once
 * reported, or -ENOMEM. */
int manifest_fields_read(struct manifest_fields *f, enum manifest_field which,
                         const struct yaml_read_node *n, const char *file, const char *path,
                         struct yaml_read_diags *errors);

/* The fields as one JSON object (compact; keys in the order added), or NULL with *ret when none
 * was added. 0 or -ENOMEM. */
int manifest_fields_to_json(const struct manifest_fields *f, char **ret);

/* Whether a configuration key's name says it holds a secret: one of its words (split at anything
 * but letters and digits, and at a lower-case letter followed by an upper-case one) is or contains
 * "password", "passwd", "token", "secret" or "credential", or is "key" or ends in it ("apikey").
 * Such a key must be given as {secret: NAME}. */
bool manifest_key_looks_secret(const char *key);

/* Whether NAME may name a secret: a file name in the secrets folder, 1 to 255 bytes of
 * A-Z a-z 0-9 '.' '_' '-', not starting with '.'. */
bool manifest_secret_name_valid(const char *name);

#pragma once

/* A small YAML reader for the config and manifest readers: the only user of libyaml. It reads a
 * stream through libyaml's event API into a tree of nodes (scalars, sequences, mappings), each
 * with its position, and refuses what our formats have no use for or what could exhaust memory:
 * anchors and aliases, tags other than the standard ones, duplicate mapping keys, nesting, scalars,
 * node counts and files beyond the limits below, NUL bytes and invalid UTF-8. Memory stays
 * bounded by the limits. Errors are collected as messages "FILE:LINE:COLUMN: message" in a
 * struct yaml_read_diags, which config.c and manifest.c also use for theirs. No libyaml type
 * appears here. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YAML_READ_MAX_FILE_SIZE   (16U * 1024U * 1024U) /* bytes of one file or buffer */
#define YAML_READ_MAX_SCALAR_SIZE (64U * 1024U)         /* bytes of one scalar, after unescaping */
#define YAML_READ_MAX_DEPTH       64U                   /* sequences and mappings nested */
#define YAML_READ_MAX_NODES       1000000U              /* nodes of one file or buffer */
#define YAML_READ_MAX_DIAGS       1000U                 /* messages kept in one list */

/* One message about a place in a file. */
struct yaml_read_diag {
        char *file;      /* the file's name as the caller gave it */
        unsigned line;   /* 1-based; 0 when the message is about the whole file */
        unsigned column; /* 1-based, in characters; 0 with line 0 */
        char *message;   /* the message alone */
        char *text;      /* what to print: "FILE:LINE:COLUMN: message", or "FILE: message" */
};

/* A list of messages, kept in the order they were added. Zero-initialise it; free it with
 * yaml_read_diags_done(). Past YAML_READ_MAX_DIAGS messages, further ones are counted (n_total)
 * but not kept, and the last kept one says so. */
struct yaml_read_diags {
        struct yaml_read_diag *items;
        size_t n_items;
        size_t n_allocated;
        size_t n_total; /* every message added, kept or not */
        bool oom;       /* a message could not be stored for lack of memory */
};

/* Adds a message. line 0 means the whole file (printed "FILE: message"). Returns 0 or -ENOMEM
 * (and sets d->oom). */
int yaml_read_diags_add(struct yaml_read_diags *d, const char *file, unsigned line, unsigned column,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* As yaml_read_diags_add(), with the arguments of 'fmt' in a va_list. */
int yaml_read_diags_addv(struct yaml_read_diags *d, const char *file, unsigned line, unsigned column,
                         const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Frees every message and zeroes the list. */
void yaml_read_diags_done(struct yaml_read_diags *d);

/* Sorts the messages from index 'from' on by file name (bytewise), line and column, keeping the
 * order of messages at the same place: the order a compiler prints them in. */
void yaml_read_diags_sort(struct yaml_read_diags *d, size_t from);

/* The number of messages added so far (kept or not): compare before and after a call to learn
 * whether it reported anything. */
static inline size_t yaml_read_diags_count(const struct yaml_read_diags *d) {
        return d->n_total;
}

enum yaml_read_kind {
        YAML_READ_SCALAR,
        YAML_READ_SEQUENCE,
        YAML_READ_MAPPING,
        _YAML_READ_KIND_MAX,
};

/* What a scalar is, resolved with YAML 1.2's core schema from its text when it is plain (not
 * quoted, not a block scalar) or carries a !!null, !!bool, !!int or !!float tag; any other scalar
 * (quoted, block, or tagged !!str or !) is a string. YAML_READ_BOOL_1_1 is a plain y, n, yes,
 * no, on or off in any of YAML 1.1's spellings: a string in YAML 1.2, but a boolean to YAML 1.1
 * readers, so callers refuse it where a string is expected rather than guess. */
enum yaml_read_type {
        YAML_READ_NULL,     /* "", ~, null, Null, NULL */
        YAML_READ_BOOL,     /* true, True, TRUE, false, False, FALSE */
        YAML_READ_BOOL_1_1, /* y, yes, n, no, on, off ... */
        YAML_READ_INT,      /* [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+ */
        YAML_READ_FLOAT,    /* [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)?, .inf, .nan */
        YAML_READ_STRING,
        _YAML_READ_TYPE_MAX,
};

struct yaml_read_node {
        enum yaml_read_kind kind;
        enum yaml_read_type type; /* scalars only */
        unsigned line;            /* where the node starts, 1-based */
        unsigned column;          /* 1-based, in characters */
        /* Scalars: the text, NUL-terminated, with no NUL inside (refused), valid UTF-8. */
        char *value;
        size_t length;
        /* Sequences: n_children items. Mappings: keys and values alternate, children[2i] being
         * a key (always a scalar) and children[2i + 1] its value; keys are unique. */
        struct yaml_read_node **children;
        size_t n_children;
        size_t n_allocated;
};

struct yaml_read_arena; /* private: where the stream's nodes live */

/* One stream: its documents' root nodes, in order. A document with no content (`---` alone) has
 * a null scalar as its root. The stream owns every node. */
struct yaml_read_stream {
        char *file;
        struct yaml_read_node **documents;
        size_t n_documents;
        size_t n_allocated;
        struct yaml_read_arena *arena;
};

/* Parses 'size' bytes at 'data' (need not be NUL-terminated). 'file' names the input in messages
 * and is copied. On success returns 0 and sets *ret (owned by the caller, free with
 * yaml_read_stream_free()); an input with no document gives a stream with n_documents == 0. On
 * bad input returns -EINVAL with every message added to 'diags'; -ENOMEM. */
int yaml_read_buffer(const char *file, const void *data, size_t size, struct yaml_read_stream **ret,
                     struct yaml_read_diags *diags);

/* Reads the regular file at 'path' (opened, read whole and closed again: at most one descriptor
 * at a time) and parses it as yaml_read_buffer() does, naming it 'path' in messages. A missing,
 * unreadable or oversized file, or one that is not a regular file, is reported in 'diags' as
 * "PATH: message" and returns the negative errno (-EFBIG for the size limit, -EISDIR, -EINVAL for
 * other non-regular files). */
int yaml_read_file(const char *path, struct yaml_read_stream **ret, struct yaml_read_diags *diags);

/* As yaml_read_file(), with 'path' opened relative to the folder 'dir_fd' (or AT_FDCWD) and
 * 'name' naming the file in messages. */
int yaml_read_file_at(int dir_fd, const char *path, const char *name, struct yaml_read_stream **ret,
                      struct yaml_read_diags *diags);

/* The reading half of yaml_read_file_at(), with its checks and messages: opens 'path' relative to
 * 'dir_fd', reads it whole and closes it. Returns 0 and sets *ret_data (owned by the caller, with
 * a NUL after the content, which may hold NULs of its own) and *ret_size; or reports and returns
 * a negative errno as yaml_read_file_at() does. For callers that need the very bytes parsed
 * (a digest of them), then passed to yaml_read_buffer(). */
int yaml_read_contents_at(int dir_fd, const char *path, const char *name, char **ret_data, size_t *ret_size,
                          struct yaml_read_diags *diags);

/* Frees the stream and all its nodes. Accepts NULL; returns NULL. */
struct yaml_read_stream *yaml_read_stream_free(struct yaml_read_stream *s);
static inline void yaml_read_stream_freep(struct yaml_read_stream **s) {
        if (*s)
                (void) yaml_read_stream_free(*s);
}

/* Helpers for the readers that walk the tree. */

/* How to name the node's type in a message: "a mapping", "a list", "a string", "an integer",
 * "a number", "a boolean", "null", or for YAML_READ_BOOL_1_1 "'yes' (a boolean in YAML 1.1)". The
 * result is static except in that last case, where it is written into 'buf'. */
const char *yaml_read_describe(const struct yaml_read_node *n, char *buf, size_t size);

/* True for a scalar of type YAML_READ_STRING. */
bool yaml_read_is_string(const struct yaml_read_node *n);

/* Adds a message at the node's position. Returns -EINVAL, or -ENOMEM when the message could not
 * be stored. */
int yaml_read_error(struct yaml_read_diags *d, const char *file, const struct yaml_read_node *n,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Adds "'PATH' must be WANT, got DESCRIPTION" at the node, with a hint to quote the value when a
 * string was wanted and a non-null scalar was found. Returns -EINVAL, or -ENOMEM. */
int yaml_read_type_error(struct yaml_read_diags *d, const char *file, const struct yaml_read_node *n,
                         const char *path, const char *want);

/* Sorts a mapping's values into slots by key: for each key of 'map' equal to keys[i],
 * ret_values[i] is set to its value; the slot of a key 'map' lacks is set to NULL. Every other
 * key is reported as "unknown key 'PATH.KEY'" (or 'KEY' when 'path' is empty), followed by
 * " (did you mean 'K'?)" when one of 'keys' is a likely typo of it. Returns 0 when every key is
 * known, -EINVAL when some were not (all reported), -ENOMEM. */
int yaml_read_mapping_slots(const struct yaml_read_node *map, const char *file, const char *path,
                            const char *const *keys, size_t n_keys, const struct yaml_read_node **ret_values,
                            struct yaml_read_diags *d);

/* The entry of 'candidates' closest to 'word' by edit distance (insertions, deletions,
 * substitutions and swaps of neighbours), when close enough to be a likely typo (at most 2 edits,
 * and fewer than either length); NULL otherwise. */
const char *yaml_read_suggest(const char *word, const char *const *candidates, size_t n);

/* Appends "PREFIX.KEY" (or "KEY" when prefix is empty) or "PREFIX[INDEX]" into 'buf'; the result
 * is truncated to 'size' - 1 bytes. Returns 'buf'. */
char *yaml_read_path_key(char *buf, size_t size, const char *prefix, const char *key);
char *yaml_read_path_index(char *buf, size_t size, const char *prefix, size_t index);

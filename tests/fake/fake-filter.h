#pragma once

/* Elasticsearch's response filtering, the filter_path parameter, on JSON text: the paths are
 * compiled into a tree as FilterPath does it and the body is filtered in one pass as Jackson's
 * FilteringGeneratorDelegate with FilterPathBasedFilter filters what an XContentBuilder writes.
 * Pure: libc only. */

#include <stddef.h>

/* Filters the JSON text 'json' (len bytes) by the raw value of a filter_path parameter:
 *  - comma-separated paths, each trimmed, empty ones ignored (Strings.tokenizeByCommaToSet());
 *  - a path is names joined by '.'; "\." is a dot inside a name; '*' is a wildcard inside one
 *    name; a "**" name stands for one or more levels of names; arrays are transparent (a path
 *    applies to each element);
 *  - a path starting with '-' excludes what it matches. Inclusive paths filter first; the
 *    exclusive ones then filter what is left (so a field is kept when an inclusive path matches
 *    it and no exclusive one does);
 *  - an object or array that filtering leaves empty is dropped (an exclusive path keeps one that
 *    was empty to begin with); the top-level value always stays: a body that keeps nothing is {}.
 * Names and values are copied as they are written; the result is compact.
 * Returns 0 when filter_path names no path at all (NULL, "", only commas and blanks): nothing is
 * filtered and *ret is left alone. Returns 1 with the filtered body in *ret (malloc'd, the caller
 * frees it), -EINVAL when 'json' is not JSON, -ENOMEM. */
int fake_filter_path(const char *json, size_t len, const char *filter_path, char **ret);

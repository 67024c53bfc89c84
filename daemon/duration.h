#pragma once

/* Durations as the config file and the manifests write them: "500ms", "30s", "5m", "1h30m",
 * "168h". Pure: libc only. */

#include <stddef.h>

#include "util.h"

/* Parses a duration: one or more terms <integer><unit>, unit ms, s, m or h, units from largest
 * to smallest without repeats ("500ms", "30s", "5m", "1h30m", "1m30s"). Returns 0 and the value;
 * -EINVAL for anything else, bare numbers included; -ERANGE on overflow. */
int duration_parse(const char *s, usec_t *ret);

/* Writes 'u' into 'buf' (of 'size' bytes) as duration_parse() reads it ("168h", "1h30m"), whole
 * milliseconds only; an empty string for less than a millisecond. */
void duration_format(usec_t u, char *buf, size_t size);

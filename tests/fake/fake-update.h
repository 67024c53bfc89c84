#pragma once

/* The connector update endpoints, PUT _connector/<id>/_name, /_configuration, ... as the chosen
 * Elasticsearch version serves them: each request body read by a model of the Update*Action
 * parser (Elasticsearch's ConstructingObjectParser: strict at the top, lenient inside, with its
 * wording and "[line:col]" positions), the request's validation, then ConnectorIndexService's
 * update: a partial document merged into the stored one as an UpdateRequest merges it ("noop"
 * when nothing changes), or a field replaced as its painless script does, with the side effects on
 * status. Which version has which endpoint is the route table's business (fake-api.c); what
 * changed inside an endpoint between versions is decided here. The Elasticsearch sources each
 * rule comes from, and the choices made where they could not be read, are in fake-update.c. */

#include <stdbool.h>
#include <stddef.h>

struct fake_ctx;

enum fake_update_endpoint {
        FAKE_UPDATE_NAME,
        FAKE_UPDATE_CONFIGURATION,
        FAKE_UPDATE_SCHEDULING,
        FAKE_UPDATE_PIPELINE,
        FAKE_UPDATE_FILTERING,
        FAKE_UPDATE_FILTERING_ACTIVATE,
        FAKE_UPDATE_FILTERING_VALIDATION,
        FAKE_UPDATE_INDEX_NAME,
        FAKE_UPDATE_SERVICE_TYPE,
        FAKE_UPDATE_NATIVE,
        FAKE_UPDATE_API_KEY_ID,
        FAKE_UPDATE_FEATURES,
        FAKE_UPDATE_STATUS,
        FAKE_UPDATE_ERROR,
        FAKE_UPDATE_CHECK_IN,
        FAKE_UPDATE_LAST_SYNC,
        _FAKE_UPDATE_MAX,
};

/* Answers one request to an update endpoint (the route matched it, its version has it). 0 once
 * answered, or -ENOMEM. */
int fake_update_handle(struct fake_ctx *c, enum fake_update_endpoint endpoint);

/* The pure rules the endpoints use, exposed for the unit test. */

/* Sorts 'keys' into the order a Java HashMap (or HashSet) iterates them after they were put in
 * the given order into a new one: by bucket of String.hashCode() at the capacity the map grew
 * to, ties in insertion order. */
void fake_java_hash_order(const char **keys, size_t n);

/* Reads a date as the connector APIs do (TimeUtils.parseTimeFieldToInstant: the format
 * strict_date_optional_time||epoch_millis) and prints it as Elasticsearch writes an Instant
 * (strict_date_optional_time_nanos: "2024-05-01T12:00:00.000Z", more fraction digits only when
 * they are not zero). 0 with *ret malloc'd, -EINVAL when it is no such date, -ENOMEM. */
int fake_instant_normalize(const char *text, char **ret);

/* Whether Elasticsearch's Cron (x-pack's Quartz-style scheduler) takes the expression: six or
 * seven fields (seconds to an optional year), names for months and days, "*", "?", ranges,
 * steps, lists, and the day-of-month/day-of-week forms L, W, LW, L-n, n#k and nL. */
bool fake_cron_valid(const char *expression);

/* MetadataCreateIndexService.validateIndexOrAliasName(): 0 when 'name' may name an index; 1 with
 * *ret_problem (malloc'd) saying what is wrong as Elasticsearch words it ("must not start with
 * '_', '-', or '+'"); -ENOMEM. */
int fake_index_name_check(const char *name, char **ret_problem);

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

#include <cjson/cJSON.h>

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

/* What the update endpoints lend the other endpoint modules (fake-syncjob.c, fake-secret.c),
 * whose request bodies are flat ConstructingObjectParsers, so that every body is read with the
 * same wording and "[line:col]" positions. */

/* How a lent parser declares a field. */
enum fake_body_type {
        FAKE_BODY_STRING,  /* declareString() (or declareField(p.text(), STRING)): VALUE_STRING */
        FAKE_BODY_LONG,    /* declareLong(): a number, or a string Double.parseDouble() reads */
        FAKE_BODY_MAP,     /* declareObject(p.map()): START_OBJECT, kept as given */
        FAKE_BODY_INSTANT, /* declareField(ConnectorUtils.parseInstant(), OBJECT_OR_STRING): a date */
};

struct fake_body_field {
        const char *name;
        enum fake_body_type type;
        bool required; /* constructorArg() rather than optionalConstructorArg() */
};

/* RestRequest.contentParser() read by a strict ConstructingObjectParser named 'parser' over
 * 'fields', then BaseRestHandler's check of the parameters (the handler read its own before).
 * Answers the error itself: no body ("request body is required"), the parse errors, unrecognized
 * parameters. 0 with *ret a new object of the fields given, in declaration order (explicit nulls
 * kept, longs truncated, dates normalized as an Instant is written); 1 once answered; -ENOMEM. */
int fake_update_read_body(struct fake_ctx *c, const char *parser, const struct fake_body_field *fields,
                          size_t n, cJSON **ret);

/* Merges 'changes' (consumed: its members move out) into 'source' as an UpdateRequest's partial
 * document is merged (XContentHelper.update()): objects recursively, other values replaced in
 * place, new members appended. 1 when anything changed (else Elasticsearch answers "noop"), 0,
 * or -ENOMEM. */
int fake_update_merge(cJSON *source, cJSON *changes);

/* Reorders an object's members as a new HashMap holding them (put in their order) iterates them,
 * see fake_java_hash_order(). 0 or -ENOMEM. */
int fake_java_hash_order_object(cJSON *o);

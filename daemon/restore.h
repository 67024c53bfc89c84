#pragma once

/* Restoring a connector from its document as it was read before a delete. Elasticsearch cannot
 * take the document back whole: PUT /_connector/<id> takes six fields and resets the rest to
 * defaults, so a restore is that create followed by one update endpoint per aspect, each only on
 * the versions that have it. This file says which requests, in which order, with which bodies, and
 * afterwards compares the connector read back with the document, field by field. Pure: no I/O. */

#include <stdbool.h>
#include <stddef.h>

#include "cluster-decode.h"

/* One request of a restore: PUT /_connector/<id> (endpoint NULL) or PUT /_connector/<id>/<endpoint>. */
struct restore_step {
        const char *name;     /* the aspect: "create", "api_key_id", "configuration", ... */
        const char *endpoint; /* NULL for the create, else "_api_key_id", ... (static) */
        char *body;           /* the JSON body; NULL when skipped */
        size_t body_size;
        const char *skipped; /* why it is not sent on this server (static), or NULL */
};

/* What the document holds that no request can put back, and why (static strings). */
struct restore_lost {
        const char *field;
        const char *why;
};

struct restore_plan {
        struct restore_step *steps;
        size_t n_steps;
        struct restore_lost *lost;
        size_t n_lost;
};

void restore_plan_done(struct restore_plan *p);

/* The requests that restore 'document' (a connector's document as GET /_connector/<id> answered it,
 * 'size' bytes) on the server 'info' describes: the create with the fields PUT takes, then
 * _api_key_id (8.13+), _configuration, _scheduling, _pipeline, _filtering and _features (8.15+),
 * each only when the document has something for it. A step the server's version lacks is kept with
 * 'skipped' set, so that the report can name it. Returns 0, -EBADMSG with *reterr_message when the
 * document is not a connector's (not a JSON object, or a field of the wrong type), or -ENOMEM. */
int restore_plan_build(const char *document, size_t size, const struct cluster_info *info,
                       struct restore_plan *ret, char **reterr_message);

/* The step's body as it may be shown (--dry-run): the value of each configuration entry marked
 * "sensitive": true replaced by "(sensitive)". NULL for a skipped step, or when out of memory. */
char *restore_step_body_for_display(const struct restore_step *step);

enum restore_field_state {
        RESTORE_FIELD_RESTORED,       /* reads back as in the document */
        RESTORE_FIELD_DIFFERS,        /* was sent, but reads back otherwise */
        RESTORE_FIELD_NOT_RESTORABLE, /* no request on this server puts it back */
        _RESTORE_FIELD_STATE_MAX,
};

const char *restore_field_state_to_string(enum restore_field_state s);

struct restore_field {
        const char *field; /* static */
        enum restore_field_state state;
        char *detail;    /* for DIFFERS: what was wanted and what reads back, short; else NULL */
        const char *why; /* for NOT_RESTORABLE (static) */
};

struct restore_check {
        struct restore_field *fields;
        size_t n_fields;
        size_t n_differ, n_not_restorable;
};

void restore_check_done(struct restore_check *c);

/* Compares the connector read back after a restore ('actual') with the document it was restored
 * from ('wanted'), over every field a restore sets, in the plan's order; a field whose step was
 * skipped, or which no request sets but the document has, is NOT_RESTORABLE with the step's reason.
 * Runtime fields (status, error, last_seen, sync state, deleted) are never compared: the service
 * owns them. Returns 0, -EBADMSG when either is not a JSON object, or -ENOMEM. */
int restore_check_build(const char *wanted, size_t wanted_size, const char *actual, size_t actual_size,
                        const struct restore_plan *plan, struct restore_check *ret, char **reterr_message);

#pragma once

/* Converging a connector: what a declared connector's fields (plan.h's plan_declared.fields) want
 * of the connector as GET /_connector/<id> read it, field by field, and the update requests that
 * set what differs, each through its own endpoint and only on the versions that have it. Never
 * the create (PUT /_connector/<id> rebuilds a connector from defaults: it is sent only for an id
 * the cluster answered 404 for, see converge_create_body()), never a field the connector service
 * owns (status, error, last_*, sync_cursor, the active filtering, the configuration schema).
 * Which field takes which request since which version is in connector-reconciler-manifest(5),
 * MANAGED FIELDS. Pure: no I/O; secrets come through a callback. */

#include <stdbool.h>
#include <stddef.h>

enum converge_state {
        CONVERGE_SET,             /* differs: a request sets it */
        CONVERGE_DISRUPTIVE,      /* differs: index_name, service_type, is_native need allow_disruptive */
        CONVERGE_CREATE_ONLY,     /* differs: only the create sets it (language) */
        CONVERGE_UNSUPPORTED,     /* differs: no request of this server's version sets it alone */
        CONVERGE_AWAITING_SCHEMA, /* configuration: the service has not registered its schema yet */
        CONVERGE_REFUSED,         /* configuration: not in the schema, or inline where it is sensitive */
        _CONVERGE_STATE_MAX,
};

/* "set", "disruptive", "create_only", "unsupported_on_version", "awaiting_schema", "refused". */
const char *converge_state_to_string(enum converge_state s);

/* One declared field that differs from the connector. */
struct converge_field {
        char *field; /* "name", "pipeline.name", "scheduling.full.interval", "configuration.KEY" */
        enum converge_state state;
        bool secret;     /* a value from a secret: from and to are NULL, never printed */
        char *from;      /* the connector's value as JSON ("null" when it has none) */
        char *to;        /* the declared value as JSON */
        const char *why; /* why it is not set (static), for every state but CONVERGE_SET */
};

/* One update request: PUT /_connector/<id>/<endpoint> with 'body'. */
struct converge_request {
        const char *endpoint; /* "_name", "_configuration", ... (static) */
        char *body;           /* may hold a secret: wiped when freed */
        size_t body_size;
};

struct converge_diff {
        struct converge_field *fields; /* in request order */
        size_t n_fields;
        struct converge_request *requests; /* in the order to send them */
        size_t n_requests;
        size_t n_set;   /* fields in state CONVERGE_SET */
        size_t n_drift; /* fields that differ and stay so: DISRUPTIVE, CREATE_ONLY, UNSUPPORTED, REFUSED */
        bool awaiting_schema;
};

/* Gives the value of secret 'name' (a file name in the secrets folder): 0 with *ret_value (malloc'd,
 * NUL-terminated; the caller wipes and frees it), or a negative errno with *reterr_message saying
 * which file and why. */
struct converge_secrets {
        int (*get)(const char *name, char **ret_value, char **reterr_message, void *userdata);
        void *userdata;
};

/* Compares 'fields' (a plan_declared.fields JSON object) with 'live' (the connector's document,
 * 'live_size' bytes) for an Elasticsearch of version major.minor, and builds the requests that set
 * the fields that differ, as far as 'allow_disruptive' and the version let them (see the states
 * above). Only declared fields are looked at: what the manifest leaves out is never compared nor
 * sent, but a request that must carry a whole object (_pipeline, _scheduling before 8.14, _name's
 * other half) carries the connector's own values for the rest. Secrets are compared in constant
 * time and never copied anywhere but into a request body. Returns 0 and fills *ret; -EBADMSG with
 * *reterr_message when 'fields' or 'live' is not what it should be; a secret's error with its
 * message; -ENOMEM. */
int converge_diff_build(const char *fields, const char *live, size_t live_size, unsigned major,
                        unsigned minor, bool allow_disruptive, const struct converge_secrets *secrets,
                        struct converge_diff *ret, char **reterr_message);

void converge_diff_done(struct converge_diff *d);

/* The body of the create, PUT /_connector/<id>: the declared fields among the six it takes
 * (description, index_name, is_native, language, name, service_type); "{}" when none is declared.
 * Returns 0 with *ret (malloc'd) and *ret_size, -EBADMSG, or -ENOMEM. */
int converge_create_body(const char *fields, char **ret, size_t *ret_size);

/* Whether 'fields' declares configuration values (a create then waits for the schema). */
bool converge_declares_configuration(const char *fields);

/* The declared fields' names ("name,pipeline.name,configuration.KEY") of the fields set by 'd',
 * comma-separated, for the journal; NULL when out of memory. */
char *converge_diff_set_names(const struct converge_diff *d);

/* What a cycle does with one declared connector of a set with spec.lifecycle, decided from the
 * listing and the connector's document (lifecycle.c). */
enum converge_kind {
        CONVERGE_CREATE,       /* declared, create: true, not listed: to create */
        CONVERGE_UPDATE,       /* listed, and declared fields differ that requests set */
        CONVERGE_AWAITING,     /* created by this program; its configuration waits for the schema */
        CONVERGE_SOFT_DELETED, /* declared, create: true, listed soft-deleted (9.x): not revived */
        CONVERGE_DRIFT,        /* listed; fields differ that no request sets (reported only) */
        CONVERGE_FAILED,       /* could not be read or compared: 'error' says why */
        _CONVERGE_KIND_MAX,
};

/* "create", "update", "awaiting_schema", "soft_deleted", "drift", "failed". */
const char *converge_kind_to_string(enum converge_kind k);

struct converge_change {
        enum converge_kind kind;
        char *id;
        const char *set;  /* the declaring set's name (borrowed from the manifests) */
        size_t set_index; /* into the manifests' sets, and the connector in it */
        size_t connector_index;
        bool completing;        /* an update finishing this program's create (its schema came) */
        bool over_soft_deleted; /* CREATE: over the tombstone of that id (lifecycle.revive_soft_deleted) */
        struct converge_diff diff; /* UPDATE, AWAITING, DRIFT: the fields that differ */
        char *error;               /* FAILED: why */
};

/* Every change of a cycle, by kind then id (bytewise). */
struct converge_plan {
        struct converge_change *changes;
        size_t n_changes;
        size_t counts[_CONVERGE_KIND_MAX];
};

void converge_plan_done(struct converge_plan *p);

/* Sorts the changes by kind, then id, and counts them. */
void converge_plan_sort(struct converge_plan *p);

#pragma once

/* The fake cluster's documents: the connectors of the .elastic-connectors index, the sync jobs
 * of .elastic-connectors-sync-jobs and the connector secrets of .connector-secrets, kept as
 * Elasticsearch keeps them (the _source as JSON text, the _id apart), with the lookups and the
 * sorted, filtered listings the connector API runs on them. Pure: no I/O, no clock, no locking:
 * the caller serialises every call, listings too (they keep the sorted order in the store). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One stored document. Every string is owned by the store; pointers handed out stay valid until
 * the next call that changes the store. */
struct fake_doc {
        char *id;
        char *source; /* the _source, a compact JSON object without "id" */
        uint64_t seq; /* order of the last write: Lucene puts a rewritten document after the others */
        size_t slot;
        struct fake_doc *next_in_bucket;

        /* Connectors: keyword fields the list API filters and sorts on (NULL when missing). */
        char *index_name;
        char *name;
        char *service_type;
        char *description;
        bool deleted;

        /* Sync jobs. */
        char *connector_id;
        char *created_at;
        char *status;
        char *job_type;
};

struct fake_store;

int fake_store_new(struct fake_store **ret);
struct fake_store *fake_store_free(struct fake_store *s);

/* Removes every document (secrets too). */
void fake_store_clear(struct fake_store *s);

/* Whether connectors carry Elasticsearch 9.x's "deleted" member (soft deletes): seeding then gives
 * a connector that lacks it "deleted": false. Off in a new store (8.x); fake_store_clear() keeps
 * it. */
void fake_store_set_soft_deletes(struct fake_store *s, bool soft_deletes);

/* Adds the documents of a seed, {"connectors": [...], "sync_jobs": [...]}, each in the shape
 * GET returns it (with its "id"; a sync job also with "connector": {"id": ...}). A document with
 * an id already stored replaces it whole. A connector is completed with the members
 * Elasticsearch always writes into a stored one, each it lacks getting the value a new
 * connector is created with: "is_native": false, "status": "created" ("needs_configuration"
 * when "is_native" is true), "sync_now": false and, with soft deletes, "deleted": false; the
 * members it gives keep their values. 'origin' names the source in messages. On error nothing
 * is added, -EINVAL is returned and *reterr (malloc'd) says where, e.g. "seed.json:
 * connectors[2]: \"id\" must be a non-empty string" or "seed.json:3:14: invalid JSON". */
int fake_store_load(struct fake_store *s, const char *text, size_t len, const char *origin, char **reterr);

/* Checks a seed as fake_store_load() does, storing nothing: 0, or -EINVAL with *reterr. */
int fake_store_check(const char *text, size_t len, const char *origin, char **reterr);

/* Stores a connector: 'source_json' is its _source (a JSON object; an "id" key in it is
 * dropped). Returns 1 when created, 0 when an existing one was replaced, -EINVAL when the
 * source is not a JSON object. */
int fake_store_put_connector(struct fake_store *s, const char *id, const char *source_json);
int fake_store_put_sync_job(struct fake_store *s, const char *id, const char *source_json);

const struct fake_doc *fake_store_get_connector(const struct fake_store *s, const char *id);
const struct fake_doc *fake_store_get_sync_job(const struct fake_store *s, const char *id);

/* Removes a connector or a sync job: 0, or -ENOENT when there is none. */
int fake_store_remove_connector(struct fake_store *s, const char *id);
int fake_store_remove_sync_job(struct fake_store *s, const char *id);
/* Sets "deleted": true in a connector's source (a 9.x soft delete): 0 or -ENOENT. */
int fake_store_soft_delete_connector(struct fake_store *s, const char *id);
/* Removes every sync job whose connector.id is 'connector_id'; returns how many. */
size_t fake_store_remove_sync_jobs_of(struct fake_store *s, const char *connector_id);

/* Whether a sync job was ever stored: Elasticsearch words a missing sync job differently when
 * its index does not exist yet. */
bool fake_store_sync_job_index_exists(const struct fake_store *s);

/* Connector secrets: a document {"value": VALUE} each. fake_store_put_secret() stores one as
 * an index request does (a whole new source): 1 when created, 0 when it replaced one, -ENOMEM.
 * Removing: 0 or -ENOENT. The index exists once a secret was stored (fake_store_clear() removes
 * it): Elasticsearch answers index_not_found_exception before. */
int fake_store_put_secret(struct fake_store *s, const char *id, const char *value);
const struct fake_doc *fake_store_get_secret(const struct fake_store *s, const char *id);
int fake_store_remove_secret(struct fake_store *s, const char *id);
bool fake_store_secret_index_exists(const struct fake_store *s);
size_t fake_store_n_secrets(const struct fake_store *s);

size_t fake_store_n_connectors(const struct fake_store *s);
size_t fake_store_n_sync_jobs(const struct fake_store *s);

/* The filters of GET _connector. Lists hold borrowed strings; an empty list does not filter. */
struct fake_connector_query {
        const char *const *index_names;
        size_t n_index_names;
        const char *const *names;
        size_t n_names;
        const char *const *service_types;
        size_t n_service_types;
        const char *query; /* wildcard *query* on index_name, name and description; NULL: none */
        bool include_deleted;
};

/* One page of GET _connector: the connectors matching q, in the order Elasticsearch lists them (by
 * index_name in code point order, missing last, ties in write order), from the from-th on, at
 * most 'size'. *ret is a malloc'd array of borrowed pointers holding the page, *ret_n its length,
 * *ret_total how many match in all. The order of every connector is sorted once after a write
 * to the connectors and kept (so even a listing changes the store: serialise it as a write); a
 * page without filters then costs only its own connectors, a filtered one a pass over them all. */
int fake_store_page_connectors(struct fake_store *s, const struct fake_connector_query *q, size_t from,
                               size_t size, const struct fake_doc ***ret, size_t *ret_n, size_t *ret_total);

/* Every matching connector, in list order (a page that holds them all). */
int fake_store_list_connectors(struct fake_store *s, const struct fake_connector_query *q,
                               const struct fake_doc ***ret, size_t *ret_n);

struct fake_sync_job_query {
        const char *connector_id; /* NULL: any */
        const char *status;       /* NULL: any */
        const char *const *job_types;
        size_t n_job_types;
};

/* Every matching sync job, newest created_at first (missing last), ties in write order. */
int fake_store_list_sync_jobs(const struct fake_store *s, const struct fake_sync_job_query *q,
                              const struct fake_doc ***ret, size_t *ret_n);

/* Every connector (soft-deleted ones too), sync job or secret, in write order. */
int fake_store_all_connectors(const struct fake_store *s, const struct fake_doc ***ret, size_t *ret_n);
int fake_store_all_sync_jobs(const struct fake_store *s, const struct fake_doc ***ret, size_t *ret_n);
int fake_store_all_secrets(const struct fake_store *s, const struct fake_doc ***ret, size_t *ret_n);

#pragma once

/* Fault injection rules of the fake cluster: parsing, matching (method, a glob on the decoded
 * path, skip, count, probability with a seeded generator) and the action a matching request
 * gets. Pure: the caller serialises access and carries the action out. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake-util.h"

/* A change to the world a rule makes when it takes a request; the caller applies it, in this
 * order. Everything is owned (fake_mutation_free()). */
struct fake_mutation {
        char *documents;          /* a seed to add, {"connectors": [...], "sync_jobs": [...]}; or NULL */
        char **delete_connectors; /* ids to remove outright, NULL-terminated; or NULL */
        char **delete_sync_jobs;
        char *cluster_uuid; /* what GET / reports from then on; NULL: unchanged */
        char *cluster_name;
};

struct fake_mutation *fake_mutation_free(struct fake_mutation *m);

/* What to do to one request. Strings are owned by the action (fake_fault_action_done()). */
struct fake_fault_action {
        int rule;          /* index of the rule in the set */
        long delay_ms;     /* wait this long first (0: none) */
        int status;        /* answer with this status and an Elasticsearch error body (0: none) */
        char *retry_after; /* verbatim Retry-After value, or NULL */
        char *error_type;  /* error.type of the body; NULL: a default for the status */
        char *reason;      /* error.reason of the body; NULL: a default */
        /* The answer's body, verbatim (or NULL): with a status, instead of the error body; without
         * one, instead of the body of the request carried out. */
        char *body;
        char *content_type;         /* the content type of 'body'; NULL: application/json */
        bool no_product_header;     /* leave out X-elastic-product */
        bool drop;                  /* close the connection without answering */
        bool malformed;             /* answer 200 with a body that is not JSON */
        bool truncate;              /* announce the whole body, send half of it, close */
        long trickle_bytes_per_sec; /* send the body this slowly (0: at once) */
        /* Applied when the rule takes the request, after the delay, before anything else; or NULL. */
        struct fake_mutation *mutate;
        bool mutated; /* set by the caller once it applied 'mutate' (for the log) */
};

struct fake_faults;

/* A rule set using 'seed' for its probabilities (the same seed, the same choices). */
int fake_faults_new(struct fake_faults **ret, uint64_t seed);
struct fake_faults *fake_faults_free(struct fake_faults *f);

/* Replaces the rules with those of a JSON document {"faults": [RULE, ...]}. A RULE has
 * "method" (default any), "path" (a glob on the decoded path, default any), "count" (how many
 * matching requests it affects, -1 forever, the default), "skip" (matching requests to let
 * through first, default 0), "probability" (0..1, default 1), and at least one action:
 * "delay_ms", "status" (with optional "retry_after", "type", "reason"), "body" (with optional
 * "content_type"), "drop", "malformed", "truncate", "trickle_bytes_per_sec", "product_header":
 * false, "mutate" ({"connectors", "sync_jobs", "delete_connectors", "delete_sync_jobs",
 * "cluster"}, each optional; the documents checked as a seed is). status, drop, malformed and
 * truncate exclude each other; body excludes drop, malformed, truncate, type and reason. On
 * error the rules are unchanged, -EINVAL is returned and *reterr (malloc'd) names the origin,
 * the rule and the key. */
int fake_faults_set(struct fake_faults *f, const char *json, size_t len, const char *origin, char **reterr);
void fake_faults_clear(struct fake_faults *f);

/* Finds the first rule that takes this request, updating its skip and count. Returns 1 and fills
 * *ret when one applies, 0 when none does, -ENOMEM. */
int fake_faults_match(struct fake_faults *f, const char *method, const char *path,
                      struct fake_fault_action *ret);

void fake_fault_action_done(struct fake_fault_action *a);

/* Appends the action as a JSON object, as the request log records it. */
void fake_fault_action_json(struct strbuf *sb, const struct fake_fault_action *a);

/* Appends the rules with their remaining count and skip and how often each applied. */
void fake_faults_json(const struct fake_faults *f, struct strbuf *sb);

/* The error type and reason a fault's status answers with when the rule names none. */
void fake_fault_default_error(int status, const char **ret_type, const char **ret_reason);

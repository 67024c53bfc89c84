#pragma once

/* Printing a plan: the JSON object of connector-reconciler(8) for programs (plan.schema.json),
 * lines for people. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "converge.h"
#include "plan.h"

/* A set as a report names it: where its metadata.name is, and the prune settings that decide how
 * its orphans go (to say which flag an item lost to another owning set). Strings are borrowed. */
struct report_set {
        const char *name;
        const char *file; /* NULL: not known */
        unsigned line;    /* 1-based; 0: not known */
        bool prune_enabled;
        bool delete_sync_jobs;
        bool hard;
        uint64_t purge_after_usec;
};

/* Where a plan was made, printed with it by the *_ctx() variants. Strings and arrays are borrowed;
 * any may be NULL. */
struct report_context {
        const char *cluster_url; /* never with credentials: config.c refuses them in URLs */
        const char *cluster_name;
        const char *cluster_uuid;
        const char *es_version;
        unsigned es_major;             /* 0: not known; below 9 a delete is always for good */
        const char *manifests_digest;  /* "sha256:<hex>" */
        const char *revision;          /* the Git commit of the manifests, or NULL (a folder) */
        bool revision_stale;           /* that commit is the last fetched: the fetch failed */
        const struct report_set *sets; /* the manifests' sets, any order, each name once */
        size_t n_sets;
        bool color; /* text: ANSI colours (the caller decides: a terminal, and no NO_COLOR) */
        /* What the sets with spec.lifecycle create and update, or NULL (none asks). */
        const struct converge_plan *changes;
};

/* The version of the JSON below: incremented when a key changes meaning or goes away (added keys
 * do not change it). */
#define REPORT_FORMAT_VERSION 1

/* Writes the plan to f as one JSON object on one line, then a newline, with the keys in this
 * order: "format_version", "cluster" {"url","name","uuid","version"} (null without a context),
 * "manifests" {"digest","stale"} (null without a context), "revision" (the Git commit id, or null
 * for a folder or without a context), "blocked" (null or every reason, joined by
 * "; "), "blocked_by" [{"rule","set","reason","fix"}], then one array per kind, "delete",
 * "waiting", "protected", "missing", "keep", "unmanaged", each in the plan's order (by id), of
 * items that all have the same keys: {"id","name","service_type","index_name" (null when the
 * cluster does not list it), "sets" [names], "locations" [{"set","file","line"}], "reason",
 * "delete_sync_jobs","hard","permanent" (null but for deletes on a known version),"purge",
 * "dropped" [{"flag","sets"}], "purge_at","orphan_since","deletable_at" (RFC 3339, UTC, or null)}.
 * "reason" is the text plan's reason, word for word. When ctx->changes is set (a set creates or
 * updates), six more arrays follow: "create", "update", "awaiting_schema", "soft_deleted",
 * "drift", "failed", of {"id","set","fields":{FIELD:{"from","to","state","reason"}},
 * "over_soft_deleted","error"}, a
 * secret's from and to as "(secret differs)". Strings are escaped as JSON requires; each
 * byte that does not begin a valid UTF-8 sequence becomes U+FFFD, so the output is always valid
 * JSON. Writes only to f, and flushes it. Returns 0, or a negative errno when writing failed. */
int report_plan_json_ctx(FILE *f, const struct plan *p, const struct report_context *ctx);

/* Writes the plan to f for people:
 *   the cluster and the manifests (with a context),
 *   when blocked, "BLOCKED: ..." with each rule's reason and its fix,
 *   one line per connector, grouped as delete, waiting, protected, missing, keep, unmanaged (by id
 *   within a group): MARK KIND ID, then name, service_type and index_name as listed, the sets with
 *   their file:line, and the reason, e.g.
 *     "  - delete    team-a-old  name='Old' service_type=google_drive index_name=search-old
 *      sets: team-a (team-a.yaml:4): orphan of set team-a; soft delete (deleted: true), sync jobs
 *      kept" (one line),
 *   the summary "Plan: N to delete, ...".
 * Marks: '-' delete, '*' waiting, '!' protected, '?' missing, '=' keep, '.' unmanaged (none of
 * Terraform's '+' create or '~' update). Every string is escaped as escape.h says, so that it stays
 * on its line, cannot drive the terminal and shows its invisible characters; ids with
 * ESCAPE_EDGE_SPACE. With ctx->color, the marks, kinds and BLOCKED are coloured (SGR). Writes
 * only to f, and flushes it. Returns 0, or a negative errno when writing failed. */
int report_plan_text_ctx(FILE *f, const struct plan *p, const struct report_context *ctx);

/* Without a context. */
int report_plan_json(FILE *f, const struct plan *p);
int report_plan_text(FILE *f, const struct plan *p);

#pragma once

/* Printing a plan: the JSON object of connector-reconciler(8) for programs, grouped lines for
 * people. */

#include <stdio.h>

#include "plan.h"

/* Writes the plan to f as one JSON object on one line, then a newline, with the keys in this
 * order: {"delete":[{"id","delete_sync_jobs","hard","sets":[...]}], "keep":[{"id","set"}],
 * "missing":[{"id","set"}], "unmanaged":[{"id"}], "protected":[{"id","reason"}],
 * "blocked":null or "reason"}. Each array follows the plan's order (by id). Strings are escaped
 * as JSON requires (quote, backslash, control characters, DEL); valid UTF-8 is written as is and
 * each byte that does not begin a valid UTF-8 sequence becomes U+FFFD, so the output is always
 * valid JSON. Writes only to f, and flushes it. Returns 0, or a negative errno when writing
 * failed. */
int report_plan_json(FILE *f, const struct plan *p);

/* Writes the plan to f for people: one line per connector, grouped as delete, protected,
 * missing, keep, unmanaged (by id within a group), e.g.
 *   "  - delete    team-a-old  (sets: team-a; delete_sync_jobs, hard)"
 *   "  ~ protected team-b-old  (sets: team-b): set 'team-b' has prune.enabled: false"
 *   "  ! missing   team-a-hr  (set: team-a)"
 *   "    keep      team-a-wiki  (set: team-a)"
 *   "    unmanaged other"
 * then "Plan: N to delete, N to keep, N missing, N unmanaged, N protected." and, when the plan
 * is blocked, "Blocked: <reason>". Every string is escaped as escape.h says, so that it stays on
 * its line, cannot drive the terminal and shows its invisible characters; ids with
 * ESCAPE_EDGE_SPACE, so that a leading or trailing space shows as "\x20". Writes only to f, and
 * flushes it. Returns 0, or a negative errno when writing failed. */
int report_plan_text(FILE *f, const struct plan *p);

/* Where a plan was made, printed with it by the *_ctx() variants: the cluster (text: a first line;
 * JSON: a "cluster" object after "blocked") and the manifests' digest ("manifests"). Strings are
 * borrowed; any may be NULL. */
struct report_context {
        const char *cluster_url;
        const char *cluster_name;
        const char *cluster_uuid;
        const char *es_version;
        const char *manifests_digest;
};

/* As report_plan_json() and report_plan_text(), with the context (NULL: none) and the PLAN_WAITING
 * items: JSON "waiting":[{"id","sets","orphan_since","deletable_at"}] after "protected" (times in
 * RFC 3339, UTC); text lines "  * waiting   ID  (sets: ...): orphan grace, deletable at TIME" after
 * the deletions, and a "Waiting: N ..." line after the summary. */
int report_plan_json_ctx(FILE *f, const struct plan *p, const struct report_context *ctx);
int report_plan_text_ctx(FILE *f, const struct plan *p, const struct report_context *ctx);

#pragma once

/* Printing a plan: DESIGN.md's JSON object for programs, grouped lines for people. */

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
 * is blocked, "Blocked: <reason>". Every string is escaped so that it stays on its line and
 * cannot drive the terminal: backslash as "\\", \n \r \t, other C0 controls, DEL and bytes
 * that are not valid UTF-8 as "\xHH", C1 controls and the Unicode line, paragraph and
 * bidirectional controls as "\uHHHH". Writes only to f, and flushes it. Returns 0, or a
 * negative errno when writing failed. */
int report_plan_text(FILE *f, const struct plan *p);

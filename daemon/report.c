#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "report.h"
#include "escape.h"
#include "json-write.h"
#include "util.h"

/* Ids get their edge spaces escaped too: 'team-a-hr ' prints as team-a-hr\x20. */
static void text_id(FILE *f, const char *id) {
        (void) escape_fputs(f, id, ESCAPE_EDGE_SPACE);
}

static void text_string(FILE *f, const char *s) {
        (void) escape_fputs(f, s, 0);
}

/* A wall time (usec since the epoch) as RFC 3339, in UTC, to the second. */
static const char *format_time(char buf[static 32], uint64_t usec) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                (void) snprintf(buf, 32, "@%" PRIu64, usec / USEC_PER_SEC);
        return buf;
}

/* Flushes f and reports whether anything written since errno was cleared failed. */
static int finish(FILE *f) {
        if (fflush(f) != 0 || ferror(f))
                return negative_errno();
        return 0;
}

int report_plan_json_ctx(FILE *f, const struct plan *p, const struct report_context *ctx) {
        static const char *const keys[_PLAN_KIND_MAX] = {
                [PLAN_DELETE] = "delete",       [PLAN_KEEP] = "keep",           [PLAN_MISSING] = "missing",
                [PLAN_UNMANAGED] = "unmanaged", [PLAN_PROTECTED] = "protected", [PLAN_WAITING] = "waiting",
        };

        assert(f);
        assert(p);

        errno = 0;
        (void) fputc('{', f);

        /* The key order of connector-reconciler(8) is the plan_kind order. */
        for (int k = 0; k < _PLAN_KIND_MAX; k++) {
                bool first = true;

                (void) fprintf(f, "\"%s\":[", keys[k]);
                for (size_t i = 0; i < p->n_items; i++) {
                        const struct plan_item *it = p->items + i;

                        if ((int) it->kind != k)
                                continue;
                        (void) fputs(first ? "{\"id\":" : ",{\"id\":", f);
                        first = false;
                        json_write_string(f, it->id);

                        switch (it->kind) {
                        case PLAN_DELETE:
                                (void) fprintf(
                                        f, ",\"delete_sync_jobs\":%s,\"hard\":%s,\"purge\":%s,\"sets\":[",
                                        it->delete_sync_jobs ? "true" : "false", it->hard ? "true" : "false",
                                        it->purge ? "true" : "false");
                                for (size_t j = 0; j < it->n_sets; j++) {
                                        if (j > 0)
                                                (void) fputc(',', f);
                                        json_write_string(f, it->sets[j]);
                                }
                                (void) fputc(']', f);
                                break;
                        case PLAN_KEEP:
                        case PLAN_MISSING:
                                (void) fputs(",\"set\":", f);
                                json_write_string(f, it->n_sets > 0 ? it->sets[0] : NULL);
                                break;
                        case PLAN_PROTECTED:
                                (void) fputs(",\"reason\":", f);
                                json_write_string(f, it->reason);
                                if (it->deletable_at_usec > 0) {
                                        char at[32];

                                        (void) fprintf(f, ",\"purge_at\":\"%s\"",
                                                       format_time(at, it->deletable_at_usec));
                                } else
                                        (void) fputs(",\"purge_at\":null", f);
                                break;
                        case PLAN_WAITING: {
                                char since[32], at[32];

                                (void) fputs(",\"sets\":[", f);
                                for (size_t j = 0; j < it->n_sets; j++) {
                                        if (j > 0)
                                                (void) fputc(',', f);
                                        json_write_string(f, it->sets[j]);
                                }
                                (void) fprintf(f, "],\"orphan_since\":\"%s\",\"deletable_at\":\"%s\"",
                                               format_time(since, it->since_usec),
                                               format_time(at, it->deletable_at_usec));
                                break;
                        }
                        case PLAN_UNMANAGED:
                        case _PLAN_KIND_MAX:
                                break;
                        }
                        (void) fputc('}', f);
                }
                (void) fputs("],", f);
        }

        (void) fputs("\"blocked\":", f);
        json_write_string(f, p->blocked);
        if (ctx) {
                (void) fputs(",\"cluster\":{\"url\":", f);
                json_write_string(f, ctx->cluster_url);
                (void) fputs(",\"name\":", f);
                json_write_string(f, ctx->cluster_name);
                (void) fputs(",\"uuid\":", f);
                json_write_string(f, ctx->cluster_uuid);
                (void) fputs(",\"version\":", f);
                json_write_string(f, ctx->es_version);
                (void) fputs("},\"manifests\":{\"digest\":", f);
                json_write_string(f, ctx->manifests_digest);
                (void) fputc('}', f);
        }
        (void) fputs("}\n", f);

        return finish(f);
}

static void text_sets(FILE *f, const struct plan_item *it, const char *label) {
        (void) fprintf(f, "%s: ", label);
        for (size_t j = 0; j < it->n_sets; j++) {
                if (j > 0)
                        (void) fputs(", ", f);
                text_string(f, it->sets[j]);
        }
}

int report_plan_text_ctx(FILE *f, const struct plan *p, const struct report_context *ctx) {
        /* People read what changes first. */
        static const enum plan_kind order[] = {
                PLAN_DELETE, PLAN_WAITING, PLAN_PROTECTED, PLAN_MISSING, PLAN_KEEP, PLAN_UNMANAGED,
        };
        static const char marks[_PLAN_KIND_MAX] = {
                [PLAN_DELETE] = '-', [PLAN_PROTECTED] = '~', [PLAN_MISSING] = '!',
                [PLAN_KEEP] = ' ',   [PLAN_UNMANAGED] = ' ', [PLAN_WAITING] = '*',
        };

        assert(f);
        assert(p);

        errno = 0;
        if (ctx) {
                (void) fputs("Cluster '", f);
                text_string(f, strna(ctx->cluster_name));
                (void) fputs("' (cluster_uuid ", f);
                text_string(f, strna(ctx->cluster_uuid));
                (void) fputs(", Elasticsearch ", f);
                text_string(f, strna(ctx->es_version));
                (void) fputs(") at ", f);
                text_string(f, strna(ctx->cluster_url));
                (void) fputs("\nManifests ", f);
                text_string(f, strna(ctx->manifests_digest));
                (void) fputs("\n", f);
        }
        for (size_t o = 0; o < ELEMENTSOF(order); o++)
                for (size_t i = 0; i < p->n_items; i++) {
                        const struct plan_item *it = p->items + i;

                        if (it->kind != order[o])
                                continue;

                        (void) fprintf(f, "  %c %-9s ", marks[it->kind], plan_kind_to_string(it->kind));
                        text_id(f, it->id);

                        switch (it->kind) {
                        case PLAN_DELETE:
                                (void) fputs("  (", f);
                                text_sets(f, it, "sets");
                                if (it->delete_sync_jobs || it->hard)
                                        (void) fprintf(f, "; %s%s%s%s",
                                                       it->delete_sync_jobs ? "delete_sync_jobs" : "",
                                                       it->delete_sync_jobs && it->hard ? ", " : "",
                                                       it->hard ? "hard" : "", it->purge ? ", purge" : "");
                                (void) fputc(')', f);
                                break;
                        case PLAN_PROTECTED:
                                (void) fputs("  (", f);
                                text_sets(f, it, "sets");
                                (void) fputc(')', f);
                                break;
                        case PLAN_WAITING: {
                                char at[32];

                                (void) fputs("  (", f);
                                text_sets(f, it, "sets");
                                (void) fprintf(f, "): orphan grace, deletable at %s",
                                               format_time(at, it->deletable_at_usec));
                                break;
                        }
                        case PLAN_KEEP:
                        case PLAN_MISSING:
                                (void) fputs("  (", f);
                                text_sets(f, it, "set");
                                (void) fputc(')', f);
                                break;
                        case PLAN_UNMANAGED:
                        case _PLAN_KIND_MAX:
                                break;
                        }
                        if (it->reason) {
                                (void) fputs(": ", f);
                                text_string(f, it->reason);
                        }
                        if (it->kind == PLAN_PROTECTED && it->deletable_at_usec > 0) {
                                char at[32];

                                (void) fprintf(f, " (at %s)", format_time(at, it->deletable_at_usec));
                        }
                        (void) fputc('\n', f);
                }

        (void) fprintf(f, "Plan: %zu to delete, %zu to keep, %zu missing, %zu unmanaged, %zu protected.\n",
                       p->counts[PLAN_DELETE], p->counts[PLAN_KEEP], p->counts[PLAN_MISSING],
                       p->counts[PLAN_UNMANAGED], p->counts[PLAN_PROTECTED]);
        if (p->counts[PLAN_WAITING] > 0)
                (void) fprintf(f, "Waiting: %zu orphans within their grace (safety.orphan_grace).\n",
                               p->counts[PLAN_WAITING]);
        if (p->blocked) {
                (void) fputs("Blocked: ", f);
                text_string(f, p->blocked);
                (void) fputc('\n', f);
        }

        return finish(f);
}

int report_plan_json(FILE *f, const struct plan *p) {
        return report_plan_json_ctx(f, p, NULL);
}

int report_plan_text(FILE *f, const struct plan *p) {
        return report_plan_text_ctx(f, p, NULL);
}

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "duration.h"
#include "escape.h"
#include "json-write.h"
#include "util.h"

/* SGR colours for the text plan: only what a reviewer must not miss stands out. */
#define ANSI_RED     "\033[31m"
#define ANSI_YELLOW  "\033[33m"
#define ANSI_MAGENTA "\033[35m"
#define ANSI_GREEN   "\033[32m"
#define ANSI_GREY    "\033[2m"
#define ANSI_BOLD    "\033[1m"
#define ANSI_RED_B   "\033[1;31m"
#define ANSI_RESET   "\033[0m"

/* People read what changes first; the JSON keeps the same order. */
static const enum plan_kind kind_order[_PLAN_KIND_MAX] = {
        PLAN_DELETE, PLAN_WAITING, PLAN_PROTECTED, PLAN_MISSING, PLAN_KEEP, PLAN_UNMANAGED,
};

static const char kind_marks[_PLAN_KIND_MAX] = {
        [PLAN_DELETE] = '-',  [PLAN_WAITING] = '*', [PLAN_PROTECTED] = '!',
        [PLAN_MISSING] = '?', [PLAN_KEEP] = '=',    [PLAN_UNMANAGED] = '.',
};

static const char *const kind_colors[_PLAN_KIND_MAX] = {
        [PLAN_DELETE] = ANSI_RED,     [PLAN_WAITING] = ANSI_YELLOW, [PLAN_PROTECTED] = ANSI_MAGENTA,
        [PLAN_MISSING] = ANSI_YELLOW, [PLAN_KEEP] = ANSI_GREEN,     [PLAN_UNMANAGED] = ANSI_GREY,
};

static const char *const rule_names[] = {
        [0] = "allow_empty",
        [1] = "removed_set",
        [2] = "max_deletions",
        [3] = "max_updates",
};

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

static const char *rule_name(enum plan_block rule) {
        for (size_t b = 0; b < ELEMENTSOF(rule_names); b++)
                if (rule == 1u << b)
                        return rule_names[b];
        return "unknown";
}

static const struct report_set *find_set(const struct report_context *ctx, const char *name) {
        if (!ctx || !name)
                return NULL;
        for (size_t i = 0; i < ctx->n_sets; i++)
                if (ctx->sets[i].name && streq(ctx->sets[i].name, name))
                        return ctx->sets + i;
        return NULL;
}

/* A flag an item lost: the owning sets that do not say it, when another owning set does. */
enum dropped_flag {
        DROPPED_HARD,
        DROPPED_DELETE_SYNC_JOBS,
        _DROPPED_MAX,
};

static const char *const dropped_keys[_DROPPED_MAX] = {
        [DROPPED_HARD] = "prune.hard",
        [DROPPED_DELETE_SYNC_JOBS] = "prune.delete_sync_jobs",
};

static bool set_says(const struct report_set *s, enum dropped_flag d) {
        return d == DROPPED_HARD ? s->hard : s->delete_sync_jobs;
}

/* Whether a delete lost flag 'd': some owning set says it, and the item does not. */
static bool item_dropped(const struct plan_item *it, const struct report_context *ctx, enum dropped_flag d) {
        if (it->kind != PLAN_DELETE || it->purge || (d == DROPPED_HARD ? it->hard : it->delete_sync_jobs))
                return false;
        for (size_t j = 0; j < it->n_sets; j++) {
                const struct report_set *s = find_set(ctx, it->sets[j]);

                if (s && set_says(s, d))
                        return true;
        }
        return false;
}

/* Whether the delete is for good: hard, or a cluster below 9.0 (no soft delete). -1: not known. */
static int item_permanent(const struct plan_item *it, const struct report_context *ctx) {
        if (it->kind != PLAN_DELETE)
                return -1;
        if (it->hard)
                return 1;
        if (!ctx || ctx->es_major == 0)
                return -1;
        return ctx->es_major < 9;
}

static void sets_list(FILE *f, const struct plan_item *it) {
        for (size_t j = 0; j < it->n_sets; j++) {
                (void) fputs(j > 0 ? ", " : "", f);
                (void) fputs(it->sets[j], f); /* set names are DNS labels, escaped when printed */
        }
}

/* The reason of an item, one sentence for people; the JSON carries it word for word. Written to
 * f unescaped (the caller escapes it). */
static void item_reason(FILE *f, const struct plan_item *it, const struct report_context *ctx) {
        char t[32];

        switch (it->kind) {
        case PLAN_DELETE: {
                int permanent = item_permanent(it, ctx);

                if (it->purge) {
                        (void) fputs(
                                "purge: soft-deleted by this program, and prune.purge_after has passed; "
                                "hard delete, for good",
                                f);
                } else {
                        (void) fprintf(f, "orphan of set%s ", it->n_sets == 1 ? "" : "s");
                        sets_list(f, it);
                        if (permanent < 0)
                                (void) fputs("; delete (soft on Elasticsearch 9.x, for good on 8.x)", f);
                        else if (it->hard)
                                (void) fputs("; hard delete, for good", f);
                        else if (permanent)
                                (void) fprintf(f,
                                               "; delete for good (Elasticsearch %u.x has no soft delete)",
                                               ctx->es_major);
                        else
                                (void) fputs("; soft delete (deleted: true; prune.hard deletes for good)",
                                             f);
                }
                (void) fputs(it->delete_sync_jobs ? ", with its sync jobs" : ", sync jobs kept", f);

                for (enum dropped_flag d = 0; d < _DROPPED_MAX; d++) {
                        bool first = true;

                        if (!item_dropped(it, ctx, d))
                                continue;
                        (void) fprintf(f, "; %s dropped: ", d == DROPPED_HARD ? "hard" : "delete_sync_jobs");
                        for (size_t j = 0; j < it->n_sets; j++) {
                                const struct report_set *s = find_set(ctx, it->sets[j]);

                                if (s && set_says(s, d))
                                        continue;
                                (void) fprintf(f, "%sset %s", first ? "" : ", ", it->sets[j]);
                                first = false;
                        }
                        (void) fprintf(f, " does not say %s", dropped_keys[d]);
                }

                if (!it->purge && permanent == 0 && it->n_sets > 0) {
                        uint64_t after = 0;
                        bool all = true;

                        for (size_t j = 0; j < it->n_sets && all; j++) {
                                const struct report_set *s = find_set(ctx, it->sets[j]);

                                all = s && s->purge_after_usec > 0;
                                if (all)
                                        after = MAX(after, s->purge_after_usec);
                        }
                        if (all) {
                                duration_format(after, t, sizeof(t));
                                (void) fprintf(f, "; purged %s later (prune.purge_after)", t);
                        }
                }
                break;
        }
        case PLAN_WAITING:
                (void) fprintf(f, "orphan of set%s ", it->n_sets == 1 ? "" : "s");
                sets_list(f, it);
                (void) fprintf(f, " since %s, within safety.orphan_grace", format_time(t, it->since_usec));
                (void) fprintf(f, "; deletable at %s", format_time(t, it->deletable_at_usec));
                break;
        case PLAN_PROTECTED:
                (void) fputs(strna(it->reason), f);
                if (it->deletable_at_usec > 0)
                        (void) fprintf(f, "; purge at %s", format_time(t, it->deletable_at_usec));
                break;
        case PLAN_MISSING:
                (void) fputs("declared by set ", f);
                sets_list(f, it);
                if (!it->reason)
                        (void) fputs(", not in the cluster", f);
                else if (startswith(it->reason, "declared, but "))
                        (void) fprintf(f, ", but %s", it->reason + strlen("declared, but "));
                else
                        (void) fprintf(f, "; %s", it->reason);
                break;
        case PLAN_KEEP:
                (void) fputs("declared by set ", f);
                sets_list(f, it);
                break;
        case PLAN_UNMANAGED:
                (void) fputs("owned by no set: never touched", f);
                break;
        case _PLAN_KIND_MAX:
                break;
        }
}

/* item_reason() as a string, owned by the caller; NULL when out of memory. */
static char *item_reason_string(const struct plan_item *it, const struct report_context *ctx) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        item_reason(f, it, ctx);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* How to lift a blocking rule, for people; the JSON carries it word for word. */
static void block_fix(FILE *f, const struct plan *p, const struct plan_block_reason *b,
                      const struct report_context *ctx) {
        const struct report_set *s = find_set(ctx, b->set);

        switch (b->rule) {
        case PLAN_BLOCK_ALLOW_EMPTY:
                (void) fprintf(f, "declare the connectors of set %s", strna(b->set));
                if (s && s->file)
                        (void) fprintf(f, " (%s:%u)", s->file, s->line);
                (void) fputs(", or, if emptying it is meant, set prune.allow_empty: true in it", f);
                break;
        case PLAN_BLOCK_REMOVED_SET:
                (void) fprintf(f,
                               "if its removal is meant, pass --confirm-removed-set %s once, or list it in "
                               "safety.confirm_removed_sets; if not, restore its manifest",
                               strna(b->set));
                break;
        case PLAN_BLOCK_MAX_DELETIONS:
                (void) fprintf(
                        f,
                        "check the deletions below; if they are meant, pass --max-deletions %zu once, "
                        "or raise safety.max_deletions",
                        p->counts[PLAN_DELETE]);
                break;
        case PLAN_BLOCK_MAX_UPDATES:
                (void) fputs(
                        "check the creations and updates below; if they are meant, pass --max-updates N "
                        "once, or raise safety.max_updates",
                        f);
                break;
        }
}

static char *block_fix_string(const struct plan *p, const struct plan_block_reason *b,
                              const struct report_context *ctx) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        block_fix(f, p, b, ctx);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void json_time(FILE *f, const char *key, uint64_t usec) {
        char t[32];

        (void) fprintf(f, ",\"%s\":", key);
        if (usec > 0)
                (void) fprintf(f, "\"%s\"", format_time(t, usec));
        else
                (void) fputs("null", f);
}

static int json_item(FILE *f, const struct plan_item *it, const struct report_context *ctx) {
        _cleanup_free_ char *reason = item_reason_string(it, ctx);
        const struct plan_connector *c = it->connector;
        int permanent = item_permanent(it, ctx);
        bool first = true;

        if (!reason)
                return -ENOMEM;

        (void) fputs("{\"id\":", f);
        json_write_string(f, it->id);
        (void) fputs(",\"name\":", f);
        json_write_string(f, c ? c->name : NULL);
        (void) fputs(",\"service_type\":", f);
        json_write_string(f, c ? c->service_type : NULL);
        (void) fputs(",\"index_name\":", f);
        json_write_string(f, c ? c->index_name : NULL);

        (void) fputs(",\"sets\":[", f);
        for (size_t j = 0; j < it->n_sets; j++) {
                (void) fputs(j > 0 ? "," : "", f);
                json_write_string(f, it->sets[j]);
        }
        (void) fputs("],\"locations\":[", f);
        for (size_t j = 0; j < it->n_sets; j++) {
                const struct report_set *s = find_set(ctx, it->sets[j]);

                if (!s || !s->file)
                        continue;
                (void) fputs(first ? "{\"set\":" : ",{\"set\":", f);
                first = false;
                json_write_string(f, s->name);
                (void) fputs(",\"file\":", f);
                json_write_string(f, s->file);
                (void) fprintf(f, ",\"line\":%u}", s->line);
        }
        (void) fputs("],\"reason\":", f);
        json_write_string(f, reason);
        (void) fprintf(f, ",\"delete_sync_jobs\":%s,\"hard\":%s,\"permanent\":%s,\"purge\":%s,\"dropped\":[",
                       it->delete_sync_jobs ? "true" : "false", it->hard ? "true" : "false",
                       permanent < 0 ? "null"
                       : permanent   ? "true"
                                     : "false",
                       it->purge ? "true" : "false");
        first = true;
        for (enum dropped_flag d = 0; d < _DROPPED_MAX; d++) {
                bool first_set = true;

                if (!item_dropped(it, ctx, d))
                        continue;
                (void) fprintf(f, "%s{\"flag\":\"%s\",\"sets\":[", first ? "" : ",", dropped_keys[d]);
                first = false;
                for (size_t j = 0; j < it->n_sets; j++) {
                        const struct report_set *s = find_set(ctx, it->sets[j]);

                        if (s && set_says(s, d))
                                continue;
                        (void) fputs(first_set ? "" : ",", f);
                        first_set = false;
                        json_write_string(f, it->sets[j]);
                }
                (void) fputs("]}", f);
        }
        (void) fputc(']', f);
        json_time(f, "purge_at", it->kind == PLAN_PROTECTED ? it->deletable_at_usec : 0);
        json_time(f, "orphan_since",
                  it->kind == PLAN_DELETE || it->kind == PLAN_WAITING ? it->since_usec : 0);
        json_time(f, "deletable_at", it->kind == PLAN_WAITING ? it->deletable_at_usec : 0);
        (void) fputc('}', f);
        return 0;
}

static void color_on(FILE *f, const struct report_context *ctx, const char *sgr);
static void color_off(FILE *f, const struct report_context *ctx);

/* The value of a changed field as printed: its JSON, or "(secret differs)". */
static const char *field_value(const struct converge_field *cf, bool to) {
        if (cf->secret)
                return cf->state == CONVERGE_AWAITING_SCHEMA ? NULL : "(secret differs)";
        return to ? cf->to : cf->from;
}

/* When a set creates or updates, one array per kind of change: [{"id","set","fields":{FIELD:
 * {"from","to","state","reason"}},"over_soft_deleted","error"}], from and to the values as JSON (a secret's as the
 * string "(secret differs)"). */
static void json_changes(FILE *f, const struct report_context *ctx) {
        const struct converge_plan *cp = ctx ? ctx->changes : NULL;

        if (!cp)
                return; /* no set creates or updates: the plan of a prune-only cycle, as it always was */
        for (int k = 0; k < _CONVERGE_KIND_MAX; k++) {
                bool first = true;

                (void) fprintf(f, ",\"%s\":[", converge_kind_to_string(k));
                for (size_t i = 0; i < cp->n_changes; i++) {
                        const struct converge_change *ch = &cp->changes[i];

                        if ((int) ch->kind != k)
                                continue;
                        (void) fputs(first ? "{\"id\":" : ",{\"id\":", f);
                        first = false;
                        json_write_string(f, ch->id);
                        (void) fputs(",\"set\":", f);
                        json_write_string(f, ch->set);
                        (void) fputs(",\"fields\":{", f);
                        for (size_t j = 0; j < ch->diff.n_fields; j++) {
                                const struct converge_field *cf = &ch->diff.fields[j];

                                (void) fputs(j > 0 ? "," : "", f);
                                json_write_string(f, cf->field);
                                (void) fputs(":{\"from\":", f);
                                if (cf->secret)
                                        json_write_string(f, field_value(cf, false));
                                else
                                        (void) fputs(cf->from, f);
                                (void) fputs(",\"to\":", f);
                                if (cf->secret)
                                        json_write_string(f, field_value(cf, true));
                                else
                                        (void) fputs(cf->to, f);
                                (void) fputs(",\"state\":", f);
                                json_write_string(f, converge_state_to_string(cf->state));
                                (void) fputs(",\"reason\":", f);
                                json_write_string(f, cf->why);
                                (void) fputc('}', f);
                        }
                        (void) fputs("},\"over_soft_deleted\":", f);
                        (void) fputs(ch->over_soft_deleted ? "true" : "false", f);
                        (void) fputs(",\"error\":", f);
                        json_write_string(f, ch->error);
                        (void) fputc('}', f);
                }
                (void) fputc(']', f);
        }
}

/* The changes for people, Terraform's way: '+' create, '~' update, then what is only reported:
 * '>' awaiting the schema, '^' drift no request may fix, '#' soft-deleted, 'x' unreadable. Each
 * field that differs on a line of its own: FIELD: FROM -> TO, and why it stays when it does. */
static void text_changes(FILE *f, const struct report_context *ctx) {
        static const char marks[_CONVERGE_KIND_MAX] = {
                [CONVERGE_CREATE] = '+', [CONVERGE_UPDATE] = '~',       [CONVERGE_AWAITING] = '>',
                [CONVERGE_DRIFT] = '^',  [CONVERGE_SOFT_DELETED] = '#', [CONVERGE_FAILED] = 'x',
        };
        static const char *const names[_CONVERGE_KIND_MAX] = {
                [CONVERGE_CREATE] = "create",         [CONVERGE_UPDATE] = "update",
                [CONVERGE_AWAITING] = "awaiting",     [CONVERGE_DRIFT] = "drift",
                [CONVERGE_SOFT_DELETED] = "soft-del", [CONVERGE_FAILED] = "failed",
        };
        const struct converge_plan *cp = ctx ? ctx->changes : NULL;

        for (size_t i = 0; cp && i < cp->n_changes; i++) {
                const struct converge_change *ch = &cp->changes[i];
                const struct report_set *s = find_set(ctx, ch->set);

                color_on(f, ctx,
                         ch->kind == CONVERGE_CREATE   ? ANSI_GREEN
                         : ch->kind == CONVERGE_UPDATE ? ANSI_YELLOW
                                                       : ANSI_RED);
                (void) fprintf(f, "  %c %-9s", marks[ch->kind], names[ch->kind]);
                color_off(f, ctx);
                (void) fputc(' ', f);
                text_id(f, ch->id);
                (void) fputs("  set: ", f);
                text_string(f, ch->set);
                if (s && s->file)
                        (void) fprintf(f, " (%s:%u)", s->file, s->line);
                if (ch->over_soft_deleted)
                        (void) fputs(
                                ": over its soft-deleted document (deleted: true; revive_soft_deleted), "
                                "which is lost",
                                f);
                if (ch->kind == CONVERGE_SOFT_DELETED)
                        (void) fputs(": soft-deleted (deleted: true); a create would overwrite it, so it is "
                                     "left; delete it for good to let it be created",
                                     f);
                if (ch->error) {
                        (void) fputs(": ", f);
                        text_string(f, ch->error);
                }
                (void) fputc('\n', f);
                for (size_t j = 0; j < ch->diff.n_fields; j++) {
                        const struct converge_field *cf = &ch->diff.fields[j];

                        (void) fputs("      ", f);
                        text_string(f, cf->field);
                        if (cf->state == CONVERGE_AWAITING_SCHEMA)
                                (void) fputs(": (waits for the schema)", f);
                        else if (cf->secret)
                                (void) fputs(": (secret differs)", f);
                        else {
                                (void) fputs(": ", f);
                                text_string(f, cf->from);
                                (void) fputs(" -> ", f);
                                text_string(f, cf->to);
                        }
                        if (cf->state != CONVERGE_SET) {
                                (void) fprintf(f, " [%s: ", converge_state_to_string(cf->state));
                                text_string(f, cf->why);
                                (void) fputc(']', f);
                        }
                        (void) fputc('\n', f);
                }
        }
}

int report_plan_json_ctx(FILE *f, const struct plan *p, const struct report_context *ctx) {
        int r;

        assert(f);
        assert(p);

        errno = 0;
        (void) fprintf(f, "{\"format_version\":%d,\"cluster\":", REPORT_FORMAT_VERSION);
        if (ctx) {
                (void) fputs("{\"url\":", f);
                json_write_string(f, ctx->cluster_url);
                (void) fputs(",\"name\":", f);
                json_write_string(f, ctx->cluster_name);
                (void) fputs(",\"uuid\":", f);
                json_write_string(f, ctx->cluster_uuid);
                (void) fputs(",\"version\":", f);
                json_write_string(f, ctx->es_version);
                (void) fputs("},\"manifests\":{\"digest\":", f);
                json_write_string(f, ctx->manifests_digest);
                (void) fprintf(f, ",\"stale\":%s}", ctx->revision_stale ? "true" : "false");
                (void) fputs(",\"revision\":", f);
                json_write_string(f, ctx->revision);
        } else
                (void) fputs("null,\"manifests\":null,\"revision\":null", f);

        (void) fputs(",\"blocked\":", f);
        json_write_string(f, p->blocked);
        (void) fputs(",\"blocked_by\":[", f);
        for (size_t i = 0; i < p->n_block_reasons; i++) {
                const struct plan_block_reason *b = p->block_reasons + i;
                _cleanup_free_ char *fix = block_fix_string(p, b, ctx);

                if (!fix)
                        return -ENOMEM;
                (void) fprintf(f, "%s{\"rule\":\"%s\",\"set\":", i > 0 ? "," : "", rule_name(b->rule));
                json_write_string(f, b->set);
                (void) fputs(",\"reason\":", f);
                json_write_string(f, b->text);
                (void) fputs(",\"fix\":", f);
                json_write_string(f, fix);
                (void) fputc('}', f);
        }
        (void) fputc(']', f);

        for (size_t o = 0; o < ELEMENTSOF(kind_order); o++) {
                enum plan_kind k = kind_order[o];
                bool first = true;

                (void) fprintf(f, ",\"%s\":[", plan_kind_to_string(k));
                for (size_t i = 0; i < p->n_items; i++) {
                        const struct plan_item *it = p->items + i;

                        if (it->kind != k)
                                continue;
                        (void) fputs(first ? "" : ",", f);
                        first = false;
                        r = json_item(f, it, ctx);
                        if (r < 0)
                                return r;
                }
                (void) fputc(']', f);
        }
        json_changes(f, ctx);
        (void) fputs("}\n", f);

        return finish(f);
}

static void color_on(FILE *f, const struct report_context *ctx, const char *sgr) {
        if (ctx && ctx->color)
                (void) fputs(sgr, f);
}

static void color_off(FILE *f, const struct report_context *ctx) {
        if (ctx && ctx->color)
                (void) fputs(ANSI_RESET, f);
}

static int text_item(FILE *f, const struct plan_item *it, const struct report_context *ctx) {
        _cleanup_free_ char *reason = item_reason_string(it, ctx);
        const struct plan_connector *c = it->connector;

        if (!reason)
                return -ENOMEM;

        (void) fputs("  ", f);
        color_on(f, ctx, kind_colors[it->kind]);
        (void) fprintf(f, "%c %-9s", kind_marks[it->kind], plan_kind_to_string(it->kind));
        color_off(f, ctx);
        (void) fputc(' ', f);
        text_id(f, it->id);

        /* What the cluster lists, to tell the connector by: only the fields it has. */
        if (c && (c->name || c->service_type || c->index_name)) {
                const char *sep = "  ";

                if (c->name) {
                        (void) fputs("  name='", f);
                        text_string(f, c->name);
                        (void) fputc('\'', f);
                        sep = " ";
                }
                if (c->service_type) {
                        (void) fprintf(f, "%sservice_type=", sep);
                        text_string(f, c->service_type);
                        sep = " ";
                }
                if (c->index_name) {
                        (void) fprintf(f, "%sindex_name=", sep);
                        text_string(f, c->index_name);
                }
        }
        if (it->n_sets > 0) {
                (void) fprintf(f, "  set%s ", it->n_sets == 1 ? "" : "s");
                for (size_t j = 0; j < it->n_sets; j++) {
                        const struct report_set *s = find_set(ctx, it->sets[j]);

                        (void) fputs(j > 0 ? ", " : "", f);
                        text_string(f, it->sets[j]);
                        if (s && s->file) {
                                (void) fputs(" (", f);
                                text_string(f, s->file);
                                (void) fprintf(f, ":%u)", s->line);
                        }
                }
        }
        (void) fputs(": ", f);
        text_string(f, reason);
        (void) fputc('\n', f);
        return 0;
}

int report_plan_text_ctx(FILE *f, const struct plan *p, const struct report_context *ctx) {
        int r;

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
                if (ctx->revision) {
                        (void) fputs(" from commit ", f);
                        text_string(f, ctx->revision);
                        if (ctx->revision_stale) {
                                color_on(f, ctx, ANSI_RED_B);
                                (void) fputs(" (STALE: the fetch failed; this is the last fetched)", f);
                                color_off(f, ctx);
                        }
                }
                (void) fputs("\n\n", f);
        }

        if (p->blocked) {
                color_on(f, ctx, ANSI_RED_B);
                (void) fputs("BLOCKED:", f);
                color_off(f, ctx);
                (void) fprintf(f, " this cycle deletes nothing, for %zu %s:\n",
                               MAX(p->n_block_reasons, (size_t) 1),
                               p->n_block_reasons > 1 ? "reasons" : "reason");
                if (p->n_block_reasons == 0) {
                        (void) fputs("  1. ", f);
                        text_string(f, p->blocked);
                        (void) fputc('\n', f);
                }
                for (size_t i = 0; i < p->n_block_reasons; i++) {
                        const struct plan_block_reason *b = p->block_reasons + i;
                        _cleanup_free_ char *fix = block_fix_string(p, b, ctx);

                        if (!fix)
                                return -ENOMEM;
                        (void) fprintf(f, "  %zu. ", i + 1);
                        text_string(f, b->text);
                        (void) fputs("\n     fix: ", f);
                        text_string(f, fix);
                        (void) fputc('\n', f);
                }
                (void) fputc('\n', f);
        }

        for (size_t o = 0; o < ELEMENTSOF(kind_order); o++)
                for (size_t i = 0; i < p->n_items; i++) {
                        const struct plan_item *it = p->items + i;

                        if (it->kind != kind_order[o])
                                continue;
                        r = text_item(f, it, ctx);
                        if (r < 0)
                                return r;
                }

        text_changes(f, ctx);

        (void) fprintf(f,
                       "Plan: %zu to delete, %zu waiting, %zu protected, %zu missing, %zu to keep, %zu "
                       "unmanaged",
                       p->counts[PLAN_DELETE], p->counts[PLAN_WAITING], p->counts[PLAN_PROTECTED],
                       p->counts[PLAN_MISSING], p->counts[PLAN_KEEP], p->counts[PLAN_UNMANAGED]);
        if (ctx && ctx->changes) {
                const struct converge_plan *cp = ctx->changes;

                (void) fprintf(f, "; %zu to create, %zu to update", cp->counts[CONVERGE_CREATE],
                               cp->counts[CONVERGE_UPDATE]);
                if (cp->counts[CONVERGE_AWAITING] > 0)
                        (void) fprintf(f, ", %zu awaiting schema", cp->counts[CONVERGE_AWAITING]);
                if (cp->counts[CONVERGE_DRIFT] > 0)
                        (void) fprintf(f, ", %zu drifted", cp->counts[CONVERGE_DRIFT]);
                if (cp->counts[CONVERGE_SOFT_DELETED] > 0)
                        (void) fprintf(f, ", %zu soft-deleted", cp->counts[CONVERGE_SOFT_DELETED]);
                if (cp->counts[CONVERGE_FAILED] > 0)
                        (void) fprintf(f, ", %zu unreadable", cp->counts[CONVERGE_FAILED]);
        }
        (void) fputs(!p->blocked           ? ".\n"
                     : ctx && ctx->changes ? "; BLOCKED: nothing is changed.\n"
                                           : "; BLOCKED: nothing is deleted.\n",
                     f);

        return finish(f);
}

int report_plan_json(FILE *f, const struct plan *p) {
        return report_plan_json_ctx(f, p, NULL);
}

int report_plan_text(FILE *f, const struct plan *p) {
        return report_plan_text_ctx(f, p, NULL);
}

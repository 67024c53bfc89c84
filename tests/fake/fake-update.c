/* The connector update endpoints: see fake-update.h.
 *
 * Sources (elastic/elasticsearch, x-pack/plugin/ent-search/.../application/connector/): the
 * Update*Action.java request parsers and their validate(), ConnectorIndexService.java (which
 * endpoint reads the connector first, the side effects), ConnectorStateMachine.java, the model
 * classes' parsers (ConnectorScheduling, ConnectorIngestPipeline, ConnectorFiltering and the
 * filtering/ classes, ConnectorConfiguration and the configuration/ classes, ConnectorFeatures,
 * ConnectorSyncInfo), libs/x-content's ConstructingObjectParser (how missing, null and late
 * arguments fail), and the YAML REST tests of the connector APIs. Three versions of
 * ConnectorIndexService could be read: an early one (the 8.12 endpoints only), one from the
 * 8.13 development (with _service_type, _native, _status, _api_key_id) and the 9.x one. What
 * the releases between did is inferred from them and from the pull requests that changed them,
 * and the comments say so where it is.
 *
 * Common to every endpoint:
 * - The body is parsed by the action's ConstructingObjectParser: unknown top-level fields are
 *   errors ("[parser] unknown field [x]", with a "did you mean" suggestion), nested objects
 *   ignore unknown fields; a value of a type the field does not take is "[parser] x doesn't
 *   support values of type: VALUE_NULL"; a missing required field is an illegal_argument_exception
 *   "Required [x]" (wrapped as "[parser] failed to parse field [x]" when nested); an explicit null
 *   for a required argument counts as missing unless every argument arrived. Every located
 *   message carries the "[line:column]" of the token Jackson was on.
 * - Then the request's validate(): action_request_validation_exception "Validation Failed: 1: ...;".
 * - A missing connector is a 404. Endpoints whose service method reads the connector first
 *   (getConnector) answer resource_not_found_exception "connector [ID] not found", on 9.x also for
 *   a soft-deleted one; the others send an UpdateRequest straight away, which fails with
 *   document_missing_exception "[ID]: document missing" (and on 9.x updates a soft-deleted
 *   connector like any other: its update does not look at "deleted").
 * - A partial document is merged as XContentHelper.update() merges it: objects recursively, any
 *   other value (arrays too) replaced, new keys appended; "result": "noop" when nothing changed
 *   (UpdateRequest's detect_noop), and then nothing is written. The painless script of
 *   _configuration always answers "updated". */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "fake-update.h"
#include "fake-api-internal.h"
#include "fake-store.h"
#include "fake-util.h"
#include "util.h"

static inline void cjson_deletep(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}
#define _cleanup_cjson_ _cleanup_(cjson_deletep)

/* The index_uuid Elasticsearch names in document_missing_exception: any UUIDs.randomBase64UUID(). */
#define CONNECTOR_INDEX_UUID "ZmFrZS1jb25uZWN0b3JzMQ"
/* ConnectorTemplateRegistry.MANAGED_CONNECTOR_INDEX_PREFIX. */
#define MANAGED_INDEX_PREFIX "content-"
/* MetadataCreateIndexService.MAX_INDEX_NAME_BYTES. */
#define MAX_INDEX_NAME_BYTES 255

/* ---- Java's HashMap order ---- */

/* Decodes one UTF-8 sequence as Java's decoder does (a bad byte is U+FFFD); returns its length. */
static size_t utf8_next(const unsigned char *p, uint32_t *ret) {
        size_t n;
        uint32_t cp;

        if (p[0] < 0x80) {
                *ret = p[0];
                return 1;
        }
        if ((p[0] & 0xE0) == 0xC0) {
                n = 2;
                cp = p[0] & 0x1F;
        } else if ((p[0] & 0xF0) == 0xE0) {
                n = 3;
                cp = p[0] & 0x0F;
        } else if ((p[0] & 0xF8) == 0xF0) {
                n = 4;
                cp = p[0] & 0x07;
        } else {
                *ret = 0xFFFD;
                return 1;
        }
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xC0) != 0x80) {
                        *ret = 0xFFFD;
                        return 1;
                }
                cp = (cp << 6) | (p[i] & 0x3F);
        }
        *ret = cp;
        return n;
}

/* String.hashCode(): s[0]*31^(n-1) + ... over UTF-16 code units, in 32-bit arithmetic. */
static uint32_t java_string_hash(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t h = 0;

        while (*p) {
                uint32_t cp;

                p += utf8_next(p, &cp);
                if (cp >= 0x10000) {
                        cp -= 0x10000;
                        h = 31 * h + (0xD800 + (cp >> 10));
                        h = 31 * h + (0xDC00 + (cp & 0x3FF));
                } else
                        h = 31 * h + cp;
        }
        return h;
}

/* The capacity a new HashMap grows to holding n keys: 16, doubled while n passes 3/4 of it. */
static size_t java_hash_capacity(size_t n) {
        size_t cap = 16;

        while (n > cap / 4 * 3)
                cap *= 2;
        return cap;
}

/* HashMap.hash() spread over the table: the bucket a key iterates in. */
static uint32_t java_bucket(const char *key, size_t cap) {
        uint32_t h = java_string_hash(key);

        return (h ^ (h >> 16)) & (uint32_t) (cap - 1);
}

void fake_java_hash_order(const char **keys, size_t n) {
        size_t cap = java_hash_capacity(n);

        /* A stable insertion sort by bucket: a bucket keeps its keys in insertion order, and so
         * does every resize that splits one. Maps here hold a handful of keys. */
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0 && java_bucket(keys[k - 1], cap) > java_bucket(keys[k], cap); k--) {
                        const char *t = keys[k];

                        keys[k] = keys[k - 1];
                        keys[k - 1] = t;
                }
}

/* Reorders an object's members as a HashMap holding them (put in their order) iterates them. */
static int java_hash_order_object(cJSON *o) {
        _cleanup_free_ const char **keys = NULL;
        _cleanup_free_ cJSON **items = NULL;
        size_t n = 0, i = 0;

        for (cJSON *it = o->child; it; it = it->next)
                n++;
        if (n < 2)
                return 0;
        keys = calloc(n, sizeof(*keys));
        items = calloc(n, sizeof(*items));
        if (!keys || !items)
                return -ENOMEM;
        for (cJSON *it = o->child; it; it = it->next)
                keys[i++] = it->string;
        fake_java_hash_order(keys, n);
        /* Keys are unique: find each one's member and relink them in the new order. */
        for (i = 0; i < n; i++)
                for (cJSON *it = o->child; it; it = it->next)
                        if (streq(it->string, keys[i]))
                                items[i] = it;
        for (i = 0; i < n; i++) {
                items[i]->prev = i > 0 ? items[i - 1] : items[n - 1];
                items[i]->next = i + 1 < n ? items[i + 1] : NULL;
        }
        o->child = items[0];
        return 0;
}

/* ---- dates (strict_date_optional_time||epoch_millis) ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        int64_t era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned) (y - era * 400);
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d) {
        int64_t era, y;
        unsigned doe, yoe, doy, mp;

        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = (unsigned) (z - era * 146097);
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        y = (int64_t) yoe + era * 400;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        *ret_d = doy - (153 * mp + 2) / 5 + 1;
        *ret_m = mp < 10 ? mp + 3 : mp - 9;
        *ret_y = y + (*ret_m <= 2);
}

static bool is_leap(int64_t y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n digits at *p. */
static bool take_digits(const char **p, size_t n, unsigned *ret) {
        unsigned v = 0;

        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*p)[i]))
                        return false;
                v = v * 10 + (unsigned) ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

/* strict_date_optional_time: yyyy[-MM[-dd]]['T'HH[:mm[:ss[.fraction]]][zone]], the zone Z, +HH,
 * +HHmm or +HH:mm; what is left out defaults to the start of the period, in UTC. */
static bool parse_date_optional_time(const char *s, int64_t *ret_sec, uint32_t *ret_nanos) {
        const char *p = s;
        unsigned year, month = 1, day = 1, hour = 0, minute = 0, second = 0, zh = 0, zm = 0;
        uint32_t nanos = 0;
        int zsign = 0;
        static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        if (!take_digits(&p, 4, &year))
                return false;
        if (*p == '-') {
                p++;
                if (!take_digits(&p, 2, &month))
                        return false;
                if (*p == '-') {
                        p++;
                        if (!take_digits(&p, 2, &day))
                                return false;
                }
        }
        if (*p == 'T') {
                p++;
                if (!take_digits(&p, 2, &hour))
                        return false;
                if (*p == ':') {
                        p++;
                        if (!take_digits(&p, 2, &minute))
                                return false;
                        if (*p == ':') {
                                p++;
                                if (!take_digits(&p, 2, &second))
                                        return false;
                                if (*p == '.' || *p == ',') {
                                        size_t n = 0;

                                        for (p++; isdigit((unsigned char) *p) && n < 9; p++, n++)
                                                nanos = nanos * 10 + (uint32_t) (*p - '0');
                                        if (n == 0 || isdigit((unsigned char) *p))
                                                return false;
                                        for (; n < 9; n++)
                                                nanos *= 10;
                                }
                        }
                }
                if (*p == 'Z')
                        p++;
                else if (*p == '+' || *p == '-') {
                        zsign = *p == '-' ? -1 : 1;
                        p++;
                        if (!take_digits(&p, 2, &zh))
                                return false;
                        if (*p == ':')
                                p++;
                        if (isdigit((unsigned char) *p) && !take_digits(&p, 2, &zm))
                                return false;
                        if (zh > 18 || zm > 59)
                                return false;
                }
        }
        if (*p || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
                return false;
        if (day > mdays[month - 1] + (month == 2 && is_leap(year)))
                return false;
        *ret_sec = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                   zsign * (int64_t) (zh * 3600 + zm * 60);
        *ret_nanos = nanos;
        return true;
}

/* epoch_millis: [-]digits, optionally with a fraction of a millisecond. */
static bool parse_epoch_millis(const char *s, int64_t *ret_sec, uint32_t *ret_nanos) {
        const char *p = s;
        bool neg = *p == '-';
        int64_t ms = 0;
        uint32_t sub = 0; /* nanoseconds below the millisecond */
        size_t n = 0;

        if (neg)
                p++;
        for (; isdigit((unsigned char) *p); p++, n++) {
                if (ms > (INT64_MAX - 9) / 10)
                        return false;
                ms = ms * 10 + (*p - '0');
        }
        if (n == 0)
                return false;
        if (*p == '.') {
                size_t k = 0;

                for (p++; isdigit((unsigned char) *p) && k < 6; p++, k++)
                        sub = sub * 10 + (uint32_t) (*p - '0');
                for (; k < 6; k++)
                        sub *= 10;
        }
        if (*p)
                return false;
        if (neg) {
                ms = -ms;
                if (sub > 0) {
                        ms--;
                        sub = 1000000 - sub;
                }
        }
        *ret_sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
        *ret_nanos = (uint32_t) (ms - *ret_sec * 1000) * 1000000 + sub;
        return true;
}

int fake_instant_normalize(const char *text, char **ret) {
        int64_t sec, days, y;
        uint32_t nanos;
        unsigned m, d, rem;
        char frac[10];
        size_t flen = 9;

        if (!parse_date_optional_time(text, &sec, &nanos) && !parse_epoch_millis(text, &sec, &nanos))
                return -EINVAL;
        days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
        rem = (unsigned) (sec - days * 86400);
        civil_from_days(days, &y, &m, &d);
        /* strict_date_optional_time_nanos: at least three fraction digits, more only if not zero. */
        (void) snprintf(frac, sizeof(frac), "%09u", (unsigned) nanos);
        while (flen > 3 && frac[flen - 1] == '0')
                flen--;
        frac[flen] = 0;
        *ret = strdup_printf("%04lld-%02u-%02uT%02u:%02u:%02u.%sZ", (long long) y, m, d, rem / 3600,
                             rem / 60 % 60, rem % 60, frac);
        return *ret ? 0 : -ENOMEM;
}

/* ---- Cron expressions (x-pack core's scheduler.Cron, a port of Quartz's CronExpression) ---- */

enum cron_field {
        CRON_SECOND,
        CRON_MINUTE,
        CRON_HOUR,
        CRON_DAY_OF_MONTH,
        CRON_MONTH,
        CRON_DAY_OF_WEEK,
        CRON_YEAR,
};

static const struct {
        int min, max;
} cron_range[] = {
        [CRON_SECOND] = { 0, 59 },       [CRON_MINUTE] = { 0, 59 }, [CRON_HOUR] = { 0, 23 },
        [CRON_DAY_OF_MONTH] = { 1, 31 }, [CRON_MONTH] = { 1, 12 },  [CRON_DAY_OF_WEEK] = { 1, 7 },
        [CRON_YEAR] = { 1970, 2199 },
};

/* One value of a field: a number in range, or a month or day name (upper case, as Cron reads the
 * expression upper-cased). Advances *p. */
static bool cron_value(const char **p, enum cron_field f, int *ret) {
        static const char *const months[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                              "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
        static const char *const days[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };
        int v = 0;
        size_t n = 0;

        if (f == CRON_MONTH || f == CRON_DAY_OF_WEEK) {
                const char *const *names = f == CRON_MONTH ? months : days;
                size_t count = f == CRON_MONTH ? ELEMENTSOF(months) : ELEMENTSOF(days);

                for (size_t i = 0; i < count; i++)
                        if (strncasecmp(*p, names[i], 3) == 0) {
                                *p += 3;
                                *ret = (int) i + 1;
                                return true;
                        }
        }
        for (; isdigit((unsigned char) **p) && n < 5; (*p)++, n++)
                v = v * 10 + (**p - '0');
        if (n == 0 || v < cron_range[f].min || v > cron_range[f].max)
                return false;
        *ret = v;
        return true;
}

/* One comma-separated item of a field. */
static bool cron_item(const char *s, enum cron_field f) {
        const char *p = s;
        int a, b;

        if (streq(s, "?"))
                return f == CRON_DAY_OF_MONTH || f == CRON_DAY_OF_WEEK;
        if (f == CRON_DAY_OF_MONTH) {
                if (streq(s, "L") || strcasecmp(s, "LW") == 0)
                        return true;
                if (strncasecmp(s, "L-", 2) == 0) {
                        p = s + 2;
                        return cron_value(&p, f, &a) && a <= 30 && !*p;
                }
        }
        if (f == CRON_DAY_OF_WEEK && strcasecmp(s, "L") == 0)
                return true;
        if (*p == '*')
                p++;
        else {
                if (!cron_value(&p, f, &a))
                        return false;
                if (f == CRON_DAY_OF_MONTH && toupper((unsigned char) *p) == 'W' && !p[1])
                        return true;
                if (f == CRON_DAY_OF_WEEK && toupper((unsigned char) *p) == 'L' && !p[1])
                        return true;
                if (f == CRON_DAY_OF_WEEK && *p == '#') {
                        p++;
                        return isdigit((unsigned char) *p) && *p >= '1' && *p <= '5' && !p[1];
                }
                if (*p == '-') {
                        p++;
                        if (!cron_value(&p, f, &b))
                                return false;
                }
        }
        if (*p == '/') {
                int inc = 0;
                size_t n = 0;

                for (p++; isdigit((unsigned char) *p) && n < 5; p++, n++)
                        inc = inc * 10 + (*p - '0');
                if (n == 0 || inc < 1 || inc > cron_range[f].max)
                        return false;
        }
        return *p == 0;
}

bool fake_cron_valid(const char *expression) {
        _cleanup_free_ char *copy = strdup(expression);
        char *save = NULL, *field;
        bool dom_any = false, dow_any = false;
        int n = 0;

        if (!copy)
                return false;
        for (field = strtok_r(copy, " \t\n", &save); field; field = strtok_r(NULL, " \t\n", &save), n++) {
                char *save2 = NULL, *item;

                if (n > CRON_YEAR)
                        return false;
                if (n == CRON_DAY_OF_MONTH)
                        dom_any = streq(field, "?");
                if (n == CRON_DAY_OF_WEEK)
                        dow_any = streq(field, "?");
                for (item = strtok_r(field, ",", &save2); item; item = strtok_r(NULL, ",", &save2))
                        if (!cron_item(item, (enum cron_field) n))
                                return false;
        }
        /* "Support for specifying both a day-of-week AND a day-of-month parameter is not
         * implemented": exactly one of them is '?'. */
        return n >= 6 && dom_any != dow_any;
}

/* ---- index names ---- */

int fake_index_name_check(const char *name, char **ret_problem) {
        /* Strings.INVALID_FILENAME_CHARS is a Set.of(): its printed order varies from one JVM to
         * the next; this is the order it is declared in. */
        static const char invalid[] = "\\/*?\"<>| ,";
        const char *problem = NULL;
        size_t len = strlen(name);

        *ret_problem = NULL;
        if (strpbrk(name, invalid))
                problem = "must not contain the following characters [\\, /, *, ?, \", <, >, |,  , ,]";
        else if (len == 0)
                problem = "must not be empty";
        else if (strchr(name, '#'))
                problem = "must not contain '#'";
        else if (strchr(name, ':'))
                problem = "must not contain ':'";
        else if (name[0] == '_' || name[0] == '-' || name[0] == '+')
                problem = "must not start with '_', '-', or '+'";
        else if (len > MAX_INDEX_NAME_BYTES) {
                *ret_problem =
                        strdup_printf("index name is too long, (%zu > %d)", len, MAX_INDEX_NAME_BYTES);
                return *ret_problem ? 1 : -ENOMEM;
        } else if (streq(name, ".") || streq(name, ".."))
                problem = "must not be '.' or '..'";
        if (!problem)
                return 0;
        *ret_problem = strdup(problem);
        return *ret_problem ? 1 : -ENOMEM;
}

/* ---- where each token of a body is ---- */

/* A node of the parsed body and the byte offsets of its member name (for an object's member),
 * of its value, and of its last token (the closing bracket of an object or array). */
struct loc {
        const cJSON *node;
        size_t name, value, end;
};

struct locs {
        const char *text;
        size_t len;
        struct loc *v;
        size_t n, cap;
        size_t dup;           /* the first member whose name repeats a sibling's, SIZE_MAX: none */
        const char *dup_name; /* borrowed from the tree */
        bool oom;
};

static void locs_done(struct locs *l) {
        free(l->v);
        *l = (struct locs){};
}

static size_t skip_ws(const struct locs *l, size_t pos) {
        while (pos < l->len &&
               (l->text[pos] == ' ' || l->text[pos] == '\t' || l->text[pos] == '\n' || l->text[pos] == '\r'))
                pos++;
        return pos;
}

static size_t skip_string(const struct locs *l, size_t pos) {
        for (pos++; pos < l->len && l->text[pos] != '"'; pos++)
                if (l->text[pos] == '\\')
                        pos++;
        return pos + 1;
}

/* Walks the text of a value cJSON parsed, in step with its tree, recording where each node is.
 * Returns the offset after the value. */
static size_t walk(struct locs *l, size_t pos, const cJSON *node, size_t name) {
        size_t idx;

        pos = skip_ws(l, pos);
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 32;
                struct loc *v = realloc(l->v, cap * sizeof(*v));

                if (!v) {
                        l->oom = true;
                        return l->len;
                }
                l->v = v;
                l->cap = cap;
        }
        idx = l->n++;
        l->v[idx] = (struct loc){ .node = node, .name = name, .value = pos, .end = pos };
        if (cJSON_IsObject(node) || cJSON_IsArray(node)) {
                bool obj = cJSON_IsObject(node);

                pos++; /* '{' or '[' */
                for (const cJSON *it = node->child; it; it = it->next) {
                        size_t member = pos = skip_ws(l, pos);

                        if (it != node->child) {
                                pos = skip_ws(l, pos + 1); /* ',' */
                                member = pos;
                        }
                        if (obj) {
                                for (const cJSON *prev = node->child; prev != it; prev = prev->next)
                                        if (streq(prev->string, it->string) && member < l->dup) {
                                                l->dup = member;
                                                l->dup_name = it->string;
                                                break;
                                        }
                                pos = skip_string(l, pos);
                                pos = skip_ws(l, pos) + 1; /* ':' */
                        }
                        pos = walk(l, pos, it, member);
                        if (l->oom)
                                return l->len;
                }
                pos = skip_ws(l, pos);
                l->v[idx].end = pos;
                return pos + 1;
        }
        if (cJSON_IsString(node))
                return skip_string(l, pos);
        while (pos < l->len && !strchr(",]} \t\r\n", l->text[pos]))
                pos++;
        l->v[idx].end = pos > 0 ? pos - 1 : 0;
        return pos;
}

static const struct loc *loc_of(const struct locs *l, const cJSON *node) {
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].node == node)
                        return &l->v[i];
        return NULL;
}

static size_t loc_value(const struct locs *l, const cJSON *node) {
        const struct loc *e = loc_of(l, node);

        return e ? e->value : 0;
}

static size_t loc_name(const struct locs *l, const cJSON *node) {
        const struct loc *e = loc_of(l, node);

        return e ? e->name : 0;
}

static size_t loc_end(const struct locs *l, const cJSON *node) {
        const struct loc *e = loc_of(l, node);

        return e ? e->end : 0;
}

/* The token a parser stands on once it read the value: the value itself, or its closing bracket. */
static size_t loc_last(const struct locs *l, const cJSON *node) {
        return cJSON_IsObject(node) || cJSON_IsArray(node) ? loc_end(l, node) : loc_value(l, node);
}

/* Jackson's location of a byte offset: line and column, both from 1, columns in bytes (Jackson
 * counts bytes when it reads bytes, as Elasticsearch gives it the body). */
static void line_col(const struct locs *l, size_t off, unsigned *ret_line, unsigned *ret_col) {
        unsigned line = 1, col = 1;

        for (size_t i = 0; i < off && i < l->len; i++) {
                if (l->text[i] == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        *ret_line = line;
        *ret_col = col;
}

/* ---- parse errors: an exception and its causes ---- */

#define MAX_CAUSES 12

/* What went wrong, as the chain of exceptions Elasticsearch renders: link[0] is the innermost
 * cause, link[n - 1] the exception answered. Located links print the "[line:col] " of 'off', the
 * token the parser stood on when the innermost one was thrown (the wrappers see the same). */
struct perr {
        size_t off;
        size_t n;
        struct {
                const char *type;
                char *reason; /* NULL: Java's null message */
                bool located;
        } link[MAX_CAUSES];
        int status;
};

static void perr_done(struct perr *e) {
        for (size_t i = 0; i < e->n; i++)
                free(e->link[i].reason);
        *e = (struct perr){};
}

/* The sentinel a parse step returns once *e holds the exception. */
#define PARSE_FAILED (-EBADMSG)

static int perr_vadd(struct perr *e, const char *type, bool located, const char *fmt, va_list ap)
        _printf_(4, 0);
static int perr_vadd(struct perr *e, const char *type, bool located, const char *fmt, va_list ap) {
        char *reason = NULL;

        if (fmt && vasprintf(&reason, fmt, ap) < 0)
                return -ENOMEM;
        if (e->n == MAX_CAUSES) {
                /* Deeper than any parser here nests: keep the outermost ones. */
                free(e->link[0].reason);
                memmove(e->link, e->link + 1, (MAX_CAUSES - 1) * sizeof(e->link[0]));
                e->n--;
        }
        e->link[e->n].type = type;
        e->link[e->n].reason = reason;
        e->link[e->n].located = located;
        e->n++;
        return PARSE_FAILED;
}

/* Throws: the innermost exception, at byte offset 'off'. */
static int perr_raise(struct perr *e, size_t off, const char *type, bool located, const char *fmt, ...)
        _printf_(5, 6);
static int perr_raise(struct perr *e, size_t off, const char *type, bool located, const char *fmt, ...) {
        va_list ap;
        int r;

        perr_done(e);
        e->off = off;
        e->status = 400;
        va_start(ap, fmt);
        r = perr_vadd(e, type, located, fmt, ap);
        va_end(ap);
        return r;
}

/* Wraps the exception in another (its cause). */
static int perr_wrap(struct perr *e, const char *type, bool located, const char *fmt, ...) _printf_(4, 5);
static int perr_wrap(struct perr *e, const char *type, bool located, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = perr_vadd(e, type, located, fmt, ap);
        va_end(ap);
        return r;
}

/* The message of link i as Elasticsearch prints it: "[line:col] " first when located. NULL for
 * Java's null message; *ret_oom set when out of memory. */
static char *link_reason(const struct locs *l, const struct perr *e, size_t i, bool *ret_oom) {
        char *s;
        unsigned line, col;

        if (!e->link[i].reason)
                return NULL;
        if (e->link[i].located) {
                line_col(l, e->off, &line, &col);
                s = strdup_printf("[%u:%u] %s", line, col, e->link[i].reason);
        } else
                s = strdup(e->link[i].reason);
        if (!s)
                *ret_oom = true;
        return s;
}

/* Answers with the exception: the root cause is the outermost exception itself (none of these
 * is an ElasticsearchWrapperException), its causes nest under "caused_by". */
static int reply_perr(struct fake_ctx *c, const struct locs *l, const struct perr *e) {
        struct strbuf cause = {};
        _cleanup_free_ char *reason = NULL, *cs = NULL;
        bool oom = false;
        size_t depth = 0;
        int r;

        reason = link_reason(l, e, e->n - 1, &oom);
        for (size_t i = e->n - 1; i-- > 0;) {
                _cleanup_free_ char *inner = link_reason(l, e, i, &oom);

                sb_puts(&cause, ",\"caused_by\":{\"type\":");
                sb_json_cstr(&cause, e->link[i].type);
                sb_puts(&cause, ",\"reason\":");
                sb_json_cstr(&cause, inner);
                depth++;
        }
        while (depth-- > 0)
                sb_puts(&cause, "}");
        r = sb_steal(&cause, &cs);
        if (r < 0 || oom)
                return -ENOMEM;
        return fake_ctx_reply_error(c, e->status, e->link[e->n - 1].type, reason, NULL, cs);
}

/* ---- the parsers (ObjectParser / ConstructingObjectParser) ---- */

/* ObjectParser.ValueType: the tokens a field takes. */
enum vt {
        VT_STRING,             /* VALUE_STRING */
        VT_STRING_OR_NULL,     /* VALUE_STRING, VALUE_NULL */
        VT_BOOLEAN,            /* VALUE_BOOLEAN, VALUE_STRING ("true", "false") */
        VT_INT,                /* VALUE_NUMBER, VALUE_STRING */
        VT_LONG,               /* VALUE_NUMBER, VALUE_STRING */
        VT_OBJECT,             /* START_OBJECT */
        VT_OBJECT_OR_NULL,     /* START_OBJECT, VALUE_NULL */
        VT_OBJECT_OR_STRING,   /* START_OBJECT, VALUE_STRING */
        VT_OBJECT_ARRAY,       /* START_OBJECT (a list of one), START_ARRAY */
        VT_STRING_ARRAY,       /* START_ARRAY, VALUE_STRING */
        VT_VALUE,              /* any scalar or null */
        VT_VALUE_OBJECT_ARRAY, /* anything */
};

struct pc {
        const struct locs *locs;
        struct perr *err;
        size_t cur; /* the token the parser stands on (for exceptions thrown by builders) */
        bool v9;    /* Elasticsearch 9.x */
        /* The field whose value is being read, and the top-level parser. */
        const struct field *field;
        const struct schema *top;
};

struct schema;

/* Reads a field's value into its parsed form (a new tree); PARSE_FAILED with p->err set. */
typedef int (*value_fn)(struct pc *p, const cJSON *v, cJSON **ret);

struct field {
        const char *name;
        enum vt vt;
        bool required;            /* constructorArg() rather than optionalConstructorArg() */
        value_fn parse;           /* NULL: as the value type reads it */
        const struct schema *sub; /* the parser of an object, or of an object array's items */
};

/* A ConstructingObjectParser whose fields are all constructor arguments (true of every parser
 * of the connector APIs). 'build' is the constructing function: it takes the parsed values (NULL
 * when absent, a JSON null when given as null) and returns the object as toXContent() writes it. */
struct schema {
        const char *name;
        bool lenient; /* ignoreUnknownFields */
        const struct field *fields;
        size_t n_fields;
        int (*build)(struct pc *p, cJSON **vals, cJSON **ret);
};

static bool supports(enum vt vt, const cJSON *v) {
        switch (vt) {
        case VT_STRING:
                return cJSON_IsString(v);
        case VT_STRING_OR_NULL:
                return cJSON_IsString(v) || cJSON_IsNull(v);
        case VT_BOOLEAN:
                return cJSON_IsBool(v) || cJSON_IsString(v);
        case VT_INT:
        case VT_LONG:
                return cJSON_IsNumber(v) || cJSON_IsString(v);
        case VT_OBJECT:
                return cJSON_IsObject(v);
        case VT_OBJECT_OR_NULL:
                return cJSON_IsObject(v) || cJSON_IsNull(v);
        case VT_OBJECT_OR_STRING:
                return cJSON_IsObject(v) || cJSON_IsString(v);
        case VT_OBJECT_ARRAY:
                return cJSON_IsObject(v) || cJSON_IsArray(v);
        case VT_STRING_ARRAY:
                return cJSON_IsArray(v) || cJSON_IsString(v);
        case VT_VALUE:
                return !cJSON_IsObject(v) && !cJSON_IsArray(v);
        case VT_VALUE_OBJECT_ARRAY:
                return true;
        }
        return false;
}

static int dup_value(const cJSON *v, cJSON **ret) {
        *ret = cJSON_Duplicate(v, true);
        return *ret ? 0 : -ENOMEM;
}

/* The literal text of a number as the body spells it (Jackson's getText()). */
static char *number_text(const struct locs *l, const cJSON *v) {
        size_t start = loc_value(l, v), end = start;

        while (end < l->len && strchr("+-0123456789.eE", l->text[end]))
                end++;
        return strndup(l->text + start, end - start);
}

/* XContentParser.booleanValue(): a boolean, or the strings "true" and "false". */
static int parse_boolean(struct pc *p, const cJSON *v, cJSON **ret) {
        if (cJSON_IsString(v)) {
                if (!streq(v->valuestring, "true") && !streq(v->valuestring, "false"))
                        return perr_raise(
                                p->err, loc_value(p->locs, v), "illegal_argument_exception", false,
                                "Failed to parse value [%s] as only [true] or [false] are allowed.",
                                v->valuestring);
                *ret = cJSON_CreateBool(streq(v->valuestring, "true"));
        } else
                *ret = cJSON_CreateBool(cJSON_IsTrue(v));
        return *ret ? 0 : -ENOMEM;
}

/* XContentParser.intValue() / longValue() with coercion: numbers are truncated, strings read as
 * Double.parseDouble() reads them. */
static int parse_integer(struct pc *p, const cJSON *v, bool is_long, cJSON **ret) {
        double d = v->valuedouble;
        double lo = is_long ? -9223372036854775808.0 : -2147483648.0;
        double hi = is_long ? 9223372036854775807.0 : 2147483647.0;
        _cleanup_free_ char *text = NULL;

        if (cJSON_IsString(v)) {
                char *end = NULL;

                d = strtod(v->valuestring, &end);
                /* Double.parseDouble() reads decimal numbers only (not C's "inf", "nan" or hex). */
                if (!*v->valuestring || *end ||
                    strspn(v->valuestring, "+-.0123456789eE") != strlen(v->valuestring))
                        return perr_raise(p->err, loc_value(p->locs, v), "number_format_exception", false,
                                          "For input string: \"%s\"", v->valuestring);
                text = strdup(v->valuestring);
        } else
                text = number_text(p->locs, v);
        if (!text)
                return -ENOMEM;
        if (d < lo || d > hi)
                return perr_raise(p->err, loc_value(p->locs, v), "illegal_argument_exception", false,
                                  "Value [%s] is out of range for %s", text,
                                  is_long ? "a long" : "an integer");
        /* Java's (long) of a double truncates toward zero. */
        *ret = cJSON_CreateNumber(trunc(d));
        return *ret ? 0 : -ENOMEM;
}

static int parse_object(struct pc *p, const struct schema *s, const cJSON *node, cJSON **ret);

/* XContentParser.text() of an array item. */
static int item_text(struct pc *p, const cJSON *v, cJSON **ret) {
        unsigned line, col;

        if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
                line_col(p->locs, loc_value(p->locs, v), &line, &col);
                return perr_raise(p->err, loc_value(p->locs, v), "illegal_state_exception", false,
                                  "Can't get text on a %s at %u:%u", fake_jackson_token(v), line, col);
        }
        if (cJSON_IsNumber(v)) {
                _cleanup_free_ char *t = number_text(p->locs, v);

                if (!t)
                        return -ENOMEM;
                *ret = cJSON_CreateString(t);
        } else if (cJSON_IsBool(v))
                *ret = cJSON_CreateString(cJSON_IsTrue(v) ? "true" : "false");
        else if (cJSON_IsNull(v))
                *ret = cJSON_CreateNull();
        else
                *ret = cJSON_CreateString(v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

/* ObjectParser.parseArray(): a single value or object is a list of one. */
static int parse_array(struct pc *p, const struct field *f, const cJSON *v, cJSON **ret) {
        _cleanup_cjson_ cJSON *list = cJSON_CreateArray();
        int r;

        if (!list)
                return -ENOMEM;
        if (!cJSON_IsArray(v)) {
                cJSON *item = NULL;

                r = f->sub ? parse_object(p, f->sub, v, &item) : item_text(p, v, &item);
                if (r < 0)
                        return r;
                cJSON_AddItemToArray(list, item);
        } else
                for (const cJSON *it = v->child; it; it = it->next) {
                        cJSON *item = NULL;

                        r = f->sub ? parse_object(p, f->sub, it, &item) : item_text(p, it, &item);
                        if (r < 0)
                                return r;
                        cJSON_AddItemToArray(list, item);
                }
        *ret = TAKE_PTR(list);
        return 0;
}

static int parse_field(struct pc *p, const struct field *f, const cJSON *v, cJSON **ret) {
        p->field = f;
        /* declareObjectOrNull(): a null is the null value, never given to the parser. */
        if (f->vt == VT_OBJECT_OR_NULL && cJSON_IsNull(v))
                return dup_value(v, ret);
        if (f->parse)
                return f->parse(p, v, ret);
        switch (f->vt) {
        case VT_BOOLEAN:
                return parse_boolean(p, v, ret);
        case VT_INT:
        case VT_LONG:
                return parse_integer(p, v, f->vt == VT_LONG, ret);
        case VT_OBJECT:
        case VT_OBJECT_OR_NULL:
                if (cJSON_IsNull(v))
                        break;
                return parse_object(p, f->sub, v, ret);
        case VT_OBJECT_ARRAY:
        case VT_STRING_ARRAY:
                return parse_array(p, f, v, ret);
        default:
                break;
        }
        return dup_value(v, ret);
}

/* ConstructingObjectParser.Target.buildTarget(): a builder's exception is wrapped, with the
 * location of a located cause. */
static int wrap_build_failure(struct pc *p, const struct schema *s) {
        if (streq(p->err->link[p->err->n - 1].type, "x_content_parse_exception") &&
            p->err->link[p->err->n - 1].located)
                return perr_wrap(p->err, "x_content_parse_exception", true,
                                 "failed to build [%s] after last required field arrived", s->name);
        return perr_wrap(p->err, "x_content_parse_exception", false,
                         "Failed to build [%s] after last required field arrived", s->name);
}

/* SuggestingErrorOnUnknown: "did you mean" the declared fields closest to the unknown one. */
static int unknown_field(struct pc *p, const struct schema *s, const cJSON *m) {
        struct strbuf sb = {};
        _cleanup_free_ char *msg = NULL;
        const char *best[16];
        float dist[16];
        size_t n = 0;
        int r;

        for (size_t i = 0; i < s->n_fields && n < ELEMENTSOF(best); i++) {
                float d = lucene_levenshtein(m->string, s->fields[i].name);

                if (d <= 0.5f)
                        continue;
                best[n] = s->fields[i].name;
                dist[n++] = d;
        }
        /* By distance, best first, then by name. */
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0 && (dist[k - 1] < dist[k] ||
                                             (dist[k - 1] == dist[k] && strcmp(best[k - 1], best[k]) > 0));
                     k--) {
                        const char *tb = best[k];
                        float td = dist[k];

                        best[k] = best[k - 1];
                        dist[k] = dist[k - 1];
                        best[k - 1] = tb;
                        dist[k - 1] = td;
                }
        sb_printf(&sb, "[%s] unknown field [%s]", s->name, m->string);
        if (n == 1)
                sb_printf(&sb, " did you mean [%s]?", best[0]);
        else if (n > 1) {
                sb_puts(&sb, " did you mean any of [");
                for (size_t i = 0; i < n; i++)
                        sb_printf(&sb, "%s%s", i ? ", " : "", best[i]);
                sb_puts(&sb, "]?");
        }
        r = sb_steal(&sb, &msg);
        if (r < 0)
                return r;
        return perr_raise(p->err, loc_name(p->locs, m), "x_content_parse_exception", true, "%s", msg);
}

static void free_vals(cJSON **vals, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (vals[i])
                        cJSON_Delete(vals[i]);
        free(vals);
}

/* ConstructingObjectParser.parse() of 'node' (the parser stands on its first token). */
static int parse_object(struct pc *p, const struct schema *s, const cJSON *node, cJSON **ret) {
        cJSON **vals = NULL;
        cJSON *built = NULL;
        size_t collected = 0;
        int r = 0;

        if (!cJSON_IsObject(node))
                return perr_raise(p->err, loc_value(p->locs, node), "x_content_parse_exception", true,
                                  "[%s] Expected START_OBJECT but was: %s", s->name,
                                  fake_jackson_token(node));
        vals = calloc(s->n_fields + 1, sizeof(*vals));
        if (!vals)
                return -ENOMEM;
        for (const cJSON *m = node->child; m; m = m->next) {
                const struct field *f = NULL;
                size_t i;
                cJSON *val = NULL;

                for (i = 0; i < s->n_fields; i++)
                        if (streq(s->fields[i].name, m->string)) {
                                f = &s->fields[i];
                                break;
                        }
                if (!f) {
                        if (s->lenient)
                                continue;
                        r = unknown_field(p, s, m);
                        goto fail;
                }
                if (!supports(f->vt, m)) {
                        r = perr_raise(p->err, loc_value(p->locs, m), "x_content_parse_exception", true,
                                       "[%s] %s doesn't support values of type: %s", s->name, f->name,
                                       fake_jackson_token(m));
                        goto fail;
                }
                r = parse_field(p, f, m, &val);
                if (r == 0 && vals[i]) {
                        /* Jackson refuses a repeated name before any parser sees it (see locs.dup). */
                        cJSON_Delete(vals[i]);
                        collected--;
                }
                if (r == 0) {
                        vals[i] = val;
                        collected++;
                        /* The last constructor argument to arrive builds the object at once,
                         * inside its field's parser. */
                        if (collected == s->n_fields && !built) {
                                p->cur = loc_last(p->locs, m);
                                r = s->build(p, vals, &built);
                                if (r == PARSE_FAILED)
                                        r = wrap_build_failure(p, s);
                        }
                }
                if (r == PARSE_FAILED) {
                        r = perr_wrap(p->err, "x_content_parse_exception", true,
                                      "[%s] failed to parse field [%s]", s->name, f->name);
                        goto fail;
                }
                if (r < 0)
                        goto fail;
        }
        if (!built) {
                struct strbuf sb = {};
                _cleanup_free_ char *missing = NULL;

                /* Target.finish(): a required argument that is absent or null is missing. */
                for (size_t i = 0; i < s->n_fields; i++)
                        if (s->fields[i].required && (!vals[i] || cJSON_IsNull(vals[i])))
                                sb_printf(&sb, "%s%s", sb.len ? ", " : "Required [", s->fields[i].name);
                r = sb_steal(&sb, &missing);
                if (r < 0)
                        goto fail;
                if (*missing) {
                        r = perr_raise(p->err, loc_end(p->locs, node), "illegal_argument_exception", false,
                                       "%s]", missing);
                        goto fail;
                }
                p->cur = loc_end(p->locs, node);
                r = s->build(p, vals, &built);
                if (r == PARSE_FAILED)
                        r = wrap_build_failure(p, s);
                if (r < 0)
                        goto fail;
        }
        free_vals(vals, s->n_fields);
        *ret = built;
        return 0;
fail:
        if (built)
                cJSON_Delete(built);
        free_vals(vals, s->n_fields);
        return r;
}

/* Parses a whole body (or a stored document) with the top-level parser 's'. Returns 0 with *ret,
 * PARSE_FAILED with *e set and *l left for its location, or -ENOMEM. *l must be freed. */
static int parse_text(const char *text, size_t len, const struct schema *s, bool v9, struct locs *l,
                      struct perr *e, cJSON **ret) {
        _cleanup_cjson_ cJSON *j = NULL, *parsed = NULL;
        const char *end = NULL;
        struct pc p = { .locs = l, .err = e, .v9 = v9, .top = s };
        int r;

        *l = (struct locs){ .text = text, .len = len, .dup = SIZE_MAX };
        j = cJSON_ParseWithLengthOpts(text, len, &end, false);
        if (!j) {
                const char *at = cJSON_GetErrorPtr();

                return perr_raise(e, at && at >= text && at <= text + len ? (size_t) (at - text) : 0,
                                  "x_content_parse_exception", true,
                                  "Unexpected character or end-of-input: the body is not valid JSON");
        }
        (void) walk(l, 0, j, 0);
        if (l->oom)
                return -ENOMEM;
        r = parse_object(&p, s, j, &parsed);
        if (r < 0 && r != PARSE_FAILED)
                return r;
        /* Jackson reads the tokens in order: a repeated name before the failing token fails first
         * (a failure at the end of an object, "Required [x]", comes after all of it). */
        if (l->dup != SIZE_MAX && (r == 0 || l->dup < e->off))
                return perr_raise(e, l->dup, "x_content_parse_exception", true, "Duplicate field '%s'",
                                  l->dup_name);
        if (r == 0)
                *ret = TAKE_PTR(parsed);
        return r;
}

/* ---- the value readers of the model classes ---- */

/* The enums' fromString(): "Unknown Class [value]." (ConnectorStatus's wording is inferred from
 * its siblings ConnectorSyncStatus, FilteringPolicy and the rest, which all read this way). */
struct enum_def {
        const char *class;
        bool ignore_case;          /* name().equalsIgnoreCase(), else value.equals() */
        const char *const *values; /* as toString() prints them */
        size_t n;
};

static int parse_enum(struct pc *p, const cJSON *v, const struct enum_def *d, cJSON **ret) {
        /* XContentParser.text() of a null is null. */
        const char *s = cJSON_IsString(v) ? v->valuestring : NULL;

        for (size_t i = 0; s && i < d->n; i++)
                if (d->ignore_case ? strcasecmp(s, d->values[i]) == 0 : streq(s, d->values[i])) {
                        *ret = cJSON_CreateString(d->values[i]);
                        return *ret ? 0 : -ENOMEM;
                }
        return perr_raise(p->err, loc_value(p->locs, v), "illegal_argument_exception", false,
                          "Unknown %s [%s].", d->class, s ? s : "null");
}

#define ENUM_PARSER(fn, class_name, ignore_case_, ...)                                                     \
        static int fn(struct pc *p, const cJSON *v, cJSON **ret) {                                         \
                static const char *const values[] = { __VA_ARGS__ };                                       \
                static const struct enum_def d = { class_name, ignore_case_, values, ELEMENTSOF(values) }; \
                return parse_enum(p, v, &d, ret);                                                          \
        }

ENUM_PARSER(parse_connector_status, "ConnectorStatus", true, "created", "needs_configuration", "configured",
            "connected", "error")
ENUM_PARSER(parse_sync_status, "ConnectorSyncStatus", true, "canceling", "canceled", "completed", "error",
            "in_progress", "pending", "suspended")
ENUM_PARSER(parse_policy, "FilteringPolicy", true, "exclude", "include")
ENUM_PARSER(parse_rule_condition, "FilteringRuleCondition", false, "contains", "ends_with", "equals", ">",
            "<", "regex", "starts_with")
ENUM_PARSER(parse_validation_state, "FilteringValidationState", true, "edited", "invalid", "valid")
ENUM_PARSER(parse_display, "ConfigurationDisplayType", true, "text", "textbox", "textarea", "numeric",
            "toggle", "dropdown")
ENUM_PARSER(parse_field_type_name, "ConfigurationFieldType", false, "str", "int", "list", "bool")
ENUM_PARSER(parse_validation_type, "ConfigurationValidationType", true, "less_than", "greater_than",
            "list_type", "included_in", "regex")

/* A null type stays null (ConnectorConfiguration's parser tests for it). */
static int parse_field_type(struct pc *p, const cJSON *v, cJSON **ret) {
        if (cJSON_IsNull(v))
                return dup_value(v, ret);
        return parse_field_type_name(p, v, ret);
}

/* A sync status may be null. */
static int parse_nullable_sync_status(struct pc *p, const cJSON *v, cJSON **ret) {
        if (cJSON_IsNull(v))
                return dup_value(v, ret);
        return parse_sync_status(p, v, ret);
}

/* ConnectorUtils.parseInstant(): the date, normalized as an Instant is written. Elasticsearch's
 * DateFormatter fails with "failed to parse date field" caused by Java's DateTimeParseException;
 * their wording is Elasticsearch's and the JDK's (JavaDateFormatter, DateTimeFormatter). */
static int parse_instant(struct pc *p, const cJSON *v, cJSON **ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = fake_instant_normalize(v->valuestring, &s);
        if (r == -EINVAL) {
                r = perr_raise(p->err, loc_value(p->locs, v), "date_time_parse_exception", false,
                               "Failed to parse with all enclosed parsers");
                return perr_wrap(p->err, "illegal_argument_exception", false,
                                 "failed to parse date field [%s] with format "
                                 "[strict_date_optional_time||epoch_millis]",
                                 v->valuestring);
        }
        if (r < 0)
                return r;
        *ret = cJSON_CreateString(s);
        return *ret ? 0 : -ENOMEM;
}

/* ConnectorUtils.parseNullableInstant(). */
static int parse_nullable_instant(struct pc *p, const cJSON *v, cJSON **ret) {
        if (cJSON_IsNull(v))
                return dup_value(v, ret);
        return parse_instant(p, v, ret);
}

/* XContentParser.map(): an object as it is; any other token reads as an empty map. */
static int parse_map(struct pc *p, const cJSON *v, cJSON **ret) {
        if (cJSON_IsObject(v))
                return dup_value(v, ret);
        *ret = cJSON_CreateObject();
        return *ret ? 0 : -ENOMEM;
}

/* An object (map()) or an array (list()): FilteringAdvancedSnippet's value. */
static int parse_map_or_list(struct pc *p, const cJSON *v, cJSON **ret) {
        return dup_value(v, ret);
}

/* The value readers that throw XContentParseException("Unsupported token [X]") (no location)
 * for the tokens they do not take. */
static int unsupported_token(struct pc *p, const cJSON *v) {
        return perr_raise(p->err, loc_value(p->locs, v), "x_content_parse_exception", false,
                          "Unsupported token [%s]", fake_jackson_token(v));
}

/* ConnectorConfiguration.parseConfigurationValue(): a string, number, boolean, object or null. */
static int parse_configuration_value(struct pc *p, const cJSON *v, cJSON **ret) {
        if (cJSON_IsArray(v))
                return unsupported_token(p, v);
        return dup_value(v, ret);
}

/* ConfigurationSelectOption's value: a string or a number. */
static int parse_option_value(struct pc *p, const cJSON *v, cJSON **ret) {
        if (!cJSON_IsString(v) && !cJSON_IsNumber(v))
                return unsupported_token(p, v);
        return dup_value(v, ret);
}

/* ConfigurationValidation's constraint: a string, a number or a list. */
static int parse_constraint(struct pc *p, const cJSON *v, cJSON **ret) {
        if (!cJSON_IsString(v) && !cJSON_IsNumber(v) && !cJSON_IsArray(v))
                return unsupported_token(p, v);
        return dup_value(v, ret);
}

/* ---- builders: the objects as toXContent() (or toMap()) writes them ---- */

static int add_copy(cJSON *o, const char *key, const cJSON *v) {
        cJSON *c = cJSON_Duplicate(v, true);

        if (!c || !cJSON_AddItemToObject(o, key, c)) {
                if (c)
                        cJSON_Delete(c);
                return -ENOMEM;
        }
        return 0;
}

/* Adds vals[i] under the field's name, or does nothing when it is absent (or null, for the
 * fields toXContent() writes only when set). */
static int add_val(cJSON *o, const struct schema *s, cJSON **vals, size_t i, bool keep_null) {
        if (!vals[i] || (!keep_null && cJSON_IsNull(vals[i])))
                return 0;
        return add_copy(o, s->fields[i].name, vals[i]);
}

static int add_now(cJSON *o, const char *key, const cJSON *given) {
        char now[40];

        if (given && !cJSON_IsNull(given))
                return add_copy(o, key, given);
        iso8601_now(now, sizeof(now));
        return cJSON_AddStringToObject(o, key, now) ? 0 : -ENOMEM;
}

/* The request objects: what was given, in declaration order, explicit nulls kept. */
static int build_request(const struct schema *s, cJSON **vals, cJSON **ret) {
        _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
        int r;

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_fields; i++)
                if ((r = add_val(o, s, vals, i, true)) < 0)
                        return r;
        *ret = TAKE_PTR(o);
        return 0;
}

#define REQUEST_BUILDER(fn, schema_var)                          \
        static int fn(struct pc *p, cJSON **vals, cJSON **ret) { \
                return build_request(&schema_var, vals, ret);    \
        }

/* ConnectorScheduling.ScheduleConfig: new Cron(interval) checks the expression, and keeps it
 * upper-cased (Cron.expression(), which toXContent() writes). The JDK's ParseException behind
 * "invalid cron expression" is not modelled. */
static int build_schedule_config(struct pc *p, cJSON **vals, cJSON **ret) {
        _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
        _cleanup_free_ char *upper = NULL;

        if (!o)
                return -ENOMEM;
        if (!fake_cron_valid(vals[1]->valuestring))
                return perr_raise(p->err, p->cur, "illegal_argument_exception", false,
                                  "invalid cron expression [%s]", vals[1]->valuestring);
        upper = strdup(vals[1]->valuestring);
        if (!upper)
                return -ENOMEM;
        for (char *c = upper; *c; c++)
                *c = (char) toupper((unsigned char) *c);
        if (!cJSON_AddBoolToObject(o, "enabled", cJSON_IsTrue(vals[0])) ||
            !cJSON_AddStringToObject(o, "interval", upper))
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

static const struct field schedule_config_fields[] = {
        { "enabled", VT_BOOLEAN, true, NULL, NULL },
        { "interval", VT_STRING, true, NULL, NULL },
};
static const struct schema schedule_config = { "schedule_config", true, schedule_config_fields,
                                               ELEMENTSOF(schedule_config_fields), build_schedule_config };

/* ConnectorScheduling.toXContent(): access_control, full, incremental, each when set. */
static int build_scheduling(struct pc *p, cJSON **vals, cJSON **ret) {
        _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
        static const char *const names[] = { "access_control", "full", "incremental" };
        int r;

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (vals[i] && (r = add_copy(o, names[i], vals[i])) < 0)
                        return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* Until 8.14 every schedule is required (the partial update came with 8.14). */
static const struct field scheduling_fields_8_12[] = {
        { "access_control", VT_OBJECT, true, NULL, &schedule_config },
        { "full", VT_OBJECT, true, NULL, &schedule_config },
        { "incremental", VT_OBJECT, true, NULL, &schedule_config },
};
static const struct schema scheduling_8_12 = { "connector_scheduling", true, scheduling_fields_8_12,
                                               ELEMENTSOF(scheduling_fields_8_12), build_scheduling };
static const struct field scheduling_fields[] = {
        { "access_control", VT_OBJECT, false, NULL, &schedule_config },
        { "full", VT_OBJECT, false, NULL, &schedule_config },
        { "incremental", VT_OBJECT, false, NULL, &schedule_config },
};
static const struct schema scheduling = { "connector_scheduling", true, scheduling_fields,
                                          ELEMENTSOF(scheduling_fields), build_scheduling };

/* ConnectorIngestPipeline: all four required. */
static int build_pipeline(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field pipeline_fields[] = {
        { "extract_binary_content", VT_BOOLEAN, true, NULL, NULL },
        { "name", VT_STRING, true, NULL, NULL },
        { "reduce_whitespace", VT_BOOLEAN, true, NULL, NULL },
        { "run_ml_inference", VT_BOOLEAN, true, NULL, NULL },
};
static const struct schema pipeline = { "connector_ingest_pipeline", true, pipeline_fields,
                                        ELEMENTSOF(pipeline_fields), build_pipeline };
REQUEST_BUILDER(build_pipeline, pipeline)

/* FilteringRule: the timestamps default to the builder's Instant.now(). */
static int build_rule(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field rule_fields[] = {
        { "created_at", VT_STRING, false, parse_instant, NULL },
        { "field", VT_STRING, true, NULL, NULL },
        { "id", VT_STRING, true, NULL, NULL },
        { "order", VT_INT, true, NULL, NULL },
        { "policy", VT_STRING, true, parse_policy, NULL },
        { "rule", VT_STRING, true, parse_rule_condition, NULL },
        { "updated_at", VT_STRING, false, parse_instant, NULL },
        { "value", VT_STRING, true, NULL, NULL },
};
static const struct schema rule = { "connector_filtering_rule", true, rule_fields, ELEMENTSOF(rule_fields),
                                    build_rule };

static int build_rule(struct pc *p, cJSON **vals, cJSON **ret) {
        _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
        int r;

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(rule_fields); i++) {
                if (i == 0 || i == 6)
                        r = add_now(o, rule_fields[i].name, vals[i]);
                else
                        r = add_copy(o, rule_fields[i].name, vals[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* FilteringAdvancedSnippet. */
static int build_snippet(struct pc *p, cJSON **vals, cJSON **ret) {
        _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
        int r;

        if (!o)
                return -ENOMEM;
        if ((r = add_now(o, "created_at", vals[0])) < 0 || (r = add_now(o, "updated_at", vals[1])) < 0 ||
            (r = add_copy(o, "value", vals[2])) < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static const struct field snippet_fields[] = {
        { "created_at", VT_STRING, false, parse_instant, NULL },
        { "updated_at", VT_STRING, false, parse_instant, NULL },
        { "value", VT_OBJECT_ARRAY, true, parse_map_or_list, NULL },
};
static const struct schema snippet = { "connector_filtering_advanced_snippet", true, snippet_fields,
                                       ELEMENTSOF(snippet_fields), build_snippet };

/* FilteringValidation and FilteringValidationInfo. */
static int build_validation(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field validation_fields[] = {
        { "ids", VT_STRING_ARRAY, true, NULL, NULL },
        { "messages", VT_STRING_ARRAY, true, NULL, NULL },
};
static const struct schema validation = { "connector_filtering_validation", true, validation_fields,
                                          ELEMENTSOF(validation_fields), build_validation };
REQUEST_BUILDER(build_validation, validation)

static int build_validation_info(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field validation_info_fields[] = {
        { "errors", VT_OBJECT_ARRAY, true, NULL, &validation },
        { "state", VT_STRING, true, parse_validation_state, NULL },
};
static const struct schema validation_info = { "filtering_validation_info", true, validation_info_fields,
                                               ELEMENTSOF(validation_info_fields), build_validation_info };
REQUEST_BUILDER(build_validation_info, validation_info)

/* FilteringRules: advanced_snippet, rules, validation, all required. */
static int build_rules(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field rules_fields[] = {
        { "advanced_snippet", VT_OBJECT, true, NULL, &snippet },
        { "rules", VT_OBJECT_ARRAY, true, NULL, &rule },
        { "validation", VT_OBJECT, true, NULL, &validation_info },
};
static const struct schema rules = { "connector_filtering_rules", true, rules_fields,
                                     ELEMENTSOF(rules_fields), build_rules };
REQUEST_BUILDER(build_rules, rules)

/* ConnectorFiltering: the domain is always written "DEFAULT", whatever was given. */
static int build_filtering(struct pc *p, cJSON **vals, cJSON **ret) {
        _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
        int r;

        if (!o)
                return -ENOMEM;
        if ((r = add_copy(o, "active", vals[0])) < 0)
                return r;
        if (!cJSON_AddStringToObject(o, "domain", "DEFAULT"))
                return -ENOMEM;
        if ((r = add_copy(o, "draft", vals[1])) < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static const struct field filtering_fields[] = {
        { "active", VT_OBJECT, true, NULL, &rules },
        { "draft", VT_OBJECT, true, NULL, &rules },
};
static const struct schema filtering = { "connector_filtering", true, filtering_fields,
                                         ELEMENTSOF(filtering_fields), build_filtering };

/* ConnectorFeatures: FeatureEnabled unboxes its optional "enabled", so an object without it
 * fails to build with a NullPointerException (the JDK's helpful message for a lambda parameter
 * of a class compiled without local variable tables). */
static int build_feature(struct pc *p, cJSON **vals, cJSON **ret) {
        _cleanup_cjson_ cJSON *o = NULL;

        if (!vals[0])
                return perr_raise(
                        p->err, p->cur, "null_pointer_exception", false,
                        "Cannot invoke \"java.lang.Boolean.booleanValue()\" because \"<parameter1>[0]\" "
                        "is null");
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddBoolToObject(o, "enabled", cJSON_IsTrue(vals[0])))
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

static const struct field feature_fields[] = {
        { "enabled", VT_BOOLEAN, false, NULL, NULL },
};
static const struct schema feature = { "connector_feature_enabled", true, feature_fields,
                                       ELEMENTSOF(feature_fields), build_feature };

static int build_sync_rules(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field sync_rules_fields[] = {
        { "advanced", VT_OBJECT, false, NULL, &feature },
        { "basic", VT_OBJECT, false, NULL, &feature },
};
static const struct schema sync_rules = { "sync_rules_features", true, sync_rules_fields,
                                          ELEMENTSOF(sync_rules_fields), build_sync_rules };
REQUEST_BUILDER(build_sync_rules, sync_rules)

static int build_features(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field features_fields[] = {
        { "document_level_security", VT_OBJECT, false, NULL, &feature },
        { "incremental_sync", VT_OBJECT, false, NULL, &feature },
        { "native_connector_api_keys", VT_OBJECT, false, NULL, &feature },
        { "sync_rules", VT_OBJECT, false, NULL, &sync_rules },
};
static const struct schema features = { "connector_features", true, features_fields,
                                        ELEMENTSOF(features_fields), build_features };
REQUEST_BUILDER(build_features, features)

/* ConnectorConfiguration and its parts. 9.x writes the configuration through toMap() (a HashMap
 * for each entry: getConfigurationAsMap()); the 8.x services put the objects themselves in the
 * script's parameters, written by toXContent() in declaration order: assumed, as only the 9.x
 * source could be read with its script parameters. */
static int build_pair(struct pc *p, const struct schema *s, cJSON **vals, cJSON **ret) {
        _cleanup_cjson_ cJSON *o = NULL;
        int r;

        r = build_request(s, vals, &o);
        if (r < 0)
                return r;
        /* toXContent() writes both even when null. */
        for (size_t i = 0; i < s->n_fields; i++)
                if (!vals[i] && !cJSON_AddNullToObject(o, s->fields[i].name))
                        return -ENOMEM;
        if (p->v9 && (r = java_hash_order_object(o)) < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int build_dependency(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field dependency_fields[] = {
        { "field", VT_STRING, true, NULL, NULL },
        { "value", VT_VALUE, true, NULL, NULL },
};
static const struct schema dependency = { "connector_configuration_dependency", true, dependency_fields,
                                          ELEMENTSOF(dependency_fields), build_dependency };
static int build_dependency(struct pc *p, cJSON **vals, cJSON **ret) {
        return build_pair(p, &dependency, vals, ret);
}

static int build_option(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field option_fields[] = {
        { "label", VT_STRING, true, NULL, NULL },
        { "value", VT_VALUE, true, parse_option_value, NULL },
};
static const struct schema option = { "connector_configuration_select_option", true, option_fields,
                                      ELEMENTSOF(option_fields), build_option };
static int build_option(struct pc *p, cJSON **vals, cJSON **ret) {
        return build_pair(p, &option, vals, ret);
}

static int build_config_validation(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field config_validation_fields[] = {
        { "constraint", VT_VALUE_OBJECT_ARRAY, true, parse_constraint, NULL },
        { "type", VT_STRING, true, parse_validation_type, NULL },
};
static const struct schema config_validation = { "connector_configuration_validation", true,
                                                 config_validation_fields,
                                                 ELEMENTSOF(config_validation_fields),
                                                 build_config_validation };
static int build_config_validation(struct pc *p, cJSON **vals, cJSON **ret) {
        return build_pair(p, &config_validation, vals, ret);
}

static int build_configuration(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field configuration_fields[] = {
        { "category", VT_STRING, false, NULL, NULL },
        { "default_value", VT_VALUE, false, NULL, NULL },
        { "depends_on", VT_OBJECT_ARRAY, false, NULL, &dependency },
        { "display", VT_STRING_OR_NULL, false, parse_display, NULL },
        { "label", VT_STRING, true, NULL, NULL },
        { "options", VT_OBJECT_ARRAY, false, NULL, &option },
        { "order", VT_INT, false, NULL, NULL },
        { "placeholder", VT_STRING_OR_NULL, false, NULL, NULL },
        { "required", VT_BOOLEAN, false, NULL, NULL },
        { "sensitive", VT_BOOLEAN, false, NULL, NULL },
        { "tooltip", VT_STRING_OR_NULL, false, NULL, NULL },
        { "type", VT_STRING_OR_NULL, false, parse_field_type, NULL },
        { "ui_restrictions", VT_STRING_ARRAY, false, NULL, NULL },
        { "validations", VT_OBJECT_ARRAY, false, NULL, &config_validation },
        { "value", VT_VALUE_OBJECT_ARRAY, false, parse_configuration_value, NULL },
};
static const struct schema configuration = { "connector_configuration", true, configuration_fields,
                                             ELEMENTSOF(configuration_fields), build_configuration };

static int build_configuration(struct pc *p, cJSON **vals, cJSON **ret) {
        _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
        int r = 0;

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(configuration_fields) && r >= 0; i++) {
                const char *name = configuration_fields[i].name;

                if (streq(name, "default_value") || streq(name, "label") || streq(name, "value"))
                        /* Always written, null or not. */
                        r = vals[i] ? add_copy(o, name, vals[i])
                                    : (cJSON_AddNullToObject(o, name) ? 0 : -ENOMEM);
                else if (streq(name, "required") || streq(name, "sensitive"))
                        /* Builder: Objects.requireNonNullElse(x, false). */
                        r = cJSON_AddBoolToObject(o, name, vals[i] && cJSON_IsTrue(vals[i])) ? 0 : -ENOMEM;
                else
                        r = add_val(o, &configuration, vals, i, false);
        }
        if (r < 0)
                return r;
        if (p->v9 && (r = java_hash_order_object(o)) < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* The request's "configuration": p.map(HashMap::new, ConnectorConfiguration::fromXContent), a
 * HashMap of field name to ConnectorConfiguration (one field parser: an entry's failure is
 * wrapped only by the request's "failed to parse field [configuration]"). */
static int parse_configuration_map(struct pc *p, const cJSON *v, cJSON **ret) {
        _cleanup_cjson_ cJSON *o = cJSON_CreateObject();
        int r;

        if (!o)
                return -ENOMEM;
        for (const cJSON *m = v->child; m; m = m->next) {
                cJSON *entry = NULL;

                r = parse_object(p, &configuration, m, &entry);
                if (r < 0)
                        return r;
                cJSON_DeleteItemFromObjectCaseSensitive(o, m->string);
                if (!cJSON_AddItemToObject(o, m->string, entry)) {
                        cJSON_Delete(entry);
                        return -ENOMEM;
                }
        }
        r = java_hash_order_object(o);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* ---- the request parsers (Update*Action.Request.PARSER, strict) ---- */

#define REQUEST(var, parser_name, ...)                                                                 \
        static int build_##var(struct pc *p, cJSON **vals, cJSON **ret);                               \
        static const struct field var##_fields[] = { __VA_ARGS__ };                                    \
        static const struct schema var = { parser_name, false, var##_fields, ELEMENTSOF(var##_fields), \
                                           build_##var };                                              \
        REQUEST_BUILDER(build_##var, var)

/* 8.12 required the name; 8.13 made both optional (elastic/elasticsearch#104506). */
REQUEST(name_request_8_12, "connector_update_name_request", { "name", VT_STRING_OR_NULL, true, NULL, NULL },
        { "description", VT_STRING_OR_NULL, false, NULL, NULL })
REQUEST(name_request, "connector_update_name_request", { "name", VT_STRING_OR_NULL, false, NULL, NULL },
        { "description", VT_STRING_OR_NULL, false, NULL, NULL })
/* "values" came with 8.13. */
REQUEST(configuration_request_8_12, "connector_update_configuration_request",
        { "configuration", VT_OBJECT, false, parse_configuration_map, NULL })
REQUEST(configuration_request, "connector_update_configuration_request",
        { "configuration", VT_OBJECT, false, parse_configuration_map, NULL },
        { "values", VT_VALUE_OBJECT_ARRAY, false, parse_map, NULL })
REQUEST(scheduling_request_8_12, "connector_update_scheduling_request",
        { "scheduling", VT_OBJECT, true, NULL, &scheduling_8_12 })
REQUEST(scheduling_request, "connector_update_scheduling_request",
        { "scheduling", VT_OBJECT, true, NULL, &scheduling })
REQUEST(pipeline_request, "connector_update_pipeline_request",
        { "pipeline", VT_OBJECT, true, NULL, &pipeline })
/* The draft form (rules, advanced_snippet) came with 8.14. */
REQUEST(filtering_request_8_12, "connector_update_filtering_request",
        { "filtering", VT_OBJECT_ARRAY, true, NULL, &filtering })
REQUEST(filtering_request, "connector_update_filtering_request",
        { "filtering", VT_OBJECT_ARRAY, false, NULL, &filtering },
        { "advanced_snippet", VT_OBJECT, false, NULL, &snippet },
        { "rules", VT_OBJECT_ARRAY, false, NULL, &rule })
REQUEST(filtering_validation_request, "connector_update_filtering_validation",
        { "validation", VT_OBJECT, true, NULL, &validation_info })
REQUEST(index_name_request, "connector_update_index_name_request",
        { "index_name", VT_STRING_OR_NULL, true, NULL, NULL })
REQUEST(service_type_request, "connector_update_service_type_request",
        { "service_type", VT_STRING, true, NULL, NULL })
REQUEST(native_request, "connector_update_native_request", { "is_native", VT_BOOLEAN, true, NULL, NULL })
REQUEST(api_key_id_request, "connector_update_api_key_id_request",
        { "api_key_id", VT_STRING_OR_NULL, false, NULL, NULL },
        { "api_key_secret_id", VT_STRING_OR_NULL, false, NULL, NULL })
REQUEST(features_request, "connector_update_features_request",
        { "features", VT_OBJECT, false, NULL, &features })
REQUEST(status_request, "connector_update_status_request",
        { "status", VT_STRING, false, parse_connector_status, NULL })
REQUEST(error_request, "connector_update_error_request", { "error", VT_STRING_OR_NULL, true, NULL, NULL })
REQUEST(last_sync_request, "connector_update_last_sync_stats_request",
        { "last_access_control_sync_error", VT_STRING_OR_NULL, false, NULL, NULL },
        { "last_access_control_sync_scheduled_at", VT_STRING_OR_NULL, false, parse_nullable_instant, NULL },
        { "last_access_control_sync_status", VT_STRING_OR_NULL, false, parse_nullable_sync_status, NULL },
        { "last_deleted_document_count", VT_LONG, false, NULL, NULL },
        { "last_incremental_sync_scheduled_at", VT_STRING_OR_NULL, false, parse_nullable_instant, NULL },
        { "last_indexed_document_count", VT_LONG, false, NULL, NULL },
        { "last_sync_error", VT_STRING_OR_NULL, false, NULL, NULL },
        { "last_sync_scheduled_at", VT_STRING_OR_NULL, false, parse_nullable_instant, NULL },
        { "last_sync_status", VT_STRING_OR_NULL, false, parse_nullable_sync_status, NULL },
        { "last_synced", VT_STRING_OR_NULL, false, parse_nullable_instant, NULL },
        { "sync_cursor", VT_OBJECT_OR_NULL, false, parse_map, NULL })
/* How ConnectorIndexService reads a stored connector's filtering (CONNECTOR_FILTERING_PARSER,
 * lenient: the rest of the document is skipped). */
static int build_stored_filtering(struct pc *p, cJSON **vals, cJSON **ret);
static const struct field stored_filtering_fields[] = {
        { "filtering", VT_OBJECT_ARRAY, true, NULL, &filtering },
};
static const struct schema stored_filtering = { "connector_filtering_parser", true, stored_filtering_fields,
                                                ELEMENTSOF(stored_filtering_fields),
                                                build_stored_filtering };
REQUEST_BUILDER(build_stored_filtering, stored_filtering)

/* ---- the update: XContentHelper.update() and the stored document ---- */

/* Merges 'changes' (consumed) into 'source' as XContentHelper.update(source, changes, true) does:
 * maps merge recursively, anything else is replaced in place, new keys are appended. Returns
 * whether anything changed (1; UpdateHelper answers "noop" on 0), or -ENOMEM. */
static int merge(cJSON *source, cJSON *changes) {
        int modified = 0, r;

        while (changes->child) {
                cJSON *item = cJSON_DetachItemViaPointer(changes, changes->child);
                cJSON *old = cJSON_GetObjectItemCaseSensitive(source, item->string);

                if (!old) {
                        /* The key is copied before the item's own is freed. */
                        if (!cJSON_AddItemToObject(source, item->string, item)) {
                                cJSON_Delete(item);
                                return -ENOMEM;
                        }
                        modified = 1;
                        continue;
                }
                if (cJSON_IsObject(old) && cJSON_IsObject(item)) {
                        r = merge(old, item);
                        cJSON_Delete(item);
                        if (r < 0)
                                return r;
                        modified |= r;
                        continue;
                }
                if (!cJSON_Compare(old, item, true))
                        modified = 1;
                (void) cJSON_ReplaceItemViaPointer(source, old, item);
        }
        return modified;
}

/* Sets a field as a painless "ctx._source.x = ..." does: in place, or appended. Takes 'v'. */
static int set_field(cJSON *o, const char *key, cJSON *v) {
        if (!v)
                return -ENOMEM;
        if (cJSON_GetObjectItemCaseSensitive(o, key))
                return cJSON_ReplaceItemInObjectCaseSensitive(o, key, v) ? 0 : -ENOMEM;
        if (!cJSON_AddItemToObject(o, key, v)) {
                cJSON_Delete(v);
                return -ENOMEM;
        }
        return 0;
}

/* One request to an update endpoint. */
struct call {
        struct fake_ctx *c;
        const struct fake_version *v;
        enum fake_update_endpoint endpoint;
        bool v9;
        const char *id;
        cJSON *body; /* the parsed request body */
        struct strbuf invalid;
        unsigned n_invalid;
};

static bool at_least(const struct call *k, unsigned major, unsigned minor) {
        return fake_version_at_least(k->v, major, minor);
}

/* An answer sent: the handlers return 1 (or -ENOMEM) once they answered. */
static int answered(int r) {
        return r < 0 ? r : 1;
}

static int reply_error(struct call *k, int status, const char *type, const char *reason) {
        return answered(fake_ctx_reply_error(k->c, status, type, reason, NULL, NULL));
}

static int reply_status_exception(struct call *k, const char *fmt, ...) _printf_(2, 3);
static int reply_status_exception(struct call *k, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return reply_error(k, 400, "status_exception", m);
}

/* RestRequest.contentParser(): the body is required; then the action's parser reads it, and
 * BaseRestHandler checks the parameters. */
static int read_body(struct call *k, const struct schema *s) {
        const struct fake_request *req = fake_ctx_request(k->c);
        struct locs l = {};
        struct perr e = {};
        int r;

        if (req->body_len == 0)
                return reply_error(k, 400, "parse_exception", "request body is required");
        r = parse_text(req->body, req->body_len, s, k->v9, &l, &e, &k->body);
        if (r == PARSE_FAILED)
                r = answered(reply_perr(k->c, &l, &e));
        locs_done(&l);
        perr_done(&e);
        if (r != 0)
                return r;
        return fake_ctx_finish_params(k->c, true);
}

static void invalid(struct call *k, const char *fmt, ...) _printf_(2, 3);
static void invalid(struct call *k, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0) {
                k->invalid.oom = true;
                return;
        }
        sb_printf(&k->invalid, "%u: %s;", ++k->n_invalid, m);
}

/* Every request's validate() checks the id first; 8.12 worded it differently. */
static void validate_id(struct call *k) {
        if (*k->id)
                return;
        invalid(k, "%s",
                at_least(k, 8, 13) ? "[connector_id] cannot be [null] or [\"\"]."
                                   : "[connector_id] cannot be null or empty.");
}

/* The end of each endpoint's action name (Update*Action.NAME), after "xpack/connector/". */
static const char *const action_names[_FAKE_UPDATE_MAX] = {
        [FAKE_UPDATE_NAME] = "update_name",
        [FAKE_UPDATE_CONFIGURATION] = "update_configuration",
        [FAKE_UPDATE_SCHEDULING] = "update_scheduling",
        [FAKE_UPDATE_PIPELINE] = "update_pipeline",
        [FAKE_UPDATE_FILTERING] = "update_filtering",
        [FAKE_UPDATE_FILTERING_ACTIVATE] = "update_filtering/activate",
        [FAKE_UPDATE_FILTERING_VALIDATION] = "update_filtering/draft_validation",
        [FAKE_UPDATE_INDEX_NAME] = "update_index_name",
        [FAKE_UPDATE_SERVICE_TYPE] = "update_service_type",
        [FAKE_UPDATE_NATIVE] = "update_native",
        [FAKE_UPDATE_API_KEY_ID] = "update_api_key_id",
        [FAKE_UPDATE_FEATURES] = "update_features",
        [FAKE_UPDATE_STATUS] = "update_status",
        [FAKE_UPDATE_ERROR] = "update_error",
        [FAKE_UPDATE_CHECK_IN] = "update_last_seen",
        [FAKE_UPDATE_LAST_SYNC] = "update_last_sync_stats",
};

/* TransportAction.execute(): a request that fails validate() is answered before anything runs;
 * then the security filter authorizes the action. Every endpoint passes here once, before it
 * reads or writes the store. */
static int check_invalid(struct call *k) {
        _cleanup_free_ char *list = NULL, *m = NULL;
        int r;

        if (k->n_invalid == 0 && !k->invalid.oom)
                return fake_ctx_authorize(k->c, action_names[k->endpoint]);
        r = sb_steal(&k->invalid, &list);
        if (r < 0)
                return r;
        m = strdup_printf("Validation Failed: %s", list);
        if (!m)
                return -ENOMEM;
        return reply_error(k, 400, "action_request_validation_exception", m);
}

/* The connector to update, its stored _source as a new tree. 'read_first': the service method
 * reads it with getConnector() first (resource_not_found_exception; on 9.x soft-deleted
 * connectors are not found either); otherwise the UpdateRequest finds no document. 1 after
 * answering the 404. */
static int load(struct call *k, bool read_first, cJSON **ret) {
        const struct fake_doc *d = fake_store_get_connector(fake_ctx_store(k->c), k->id);
        _cleanup_free_ char *m = NULL;

        if (read_first && (!d || (k->v9 && d->deleted))) {
                m = strdup_printf("connector [%s] not found", k->id);
                return m ? reply_error(k, 404, "resource_not_found_exception", m) : -ENOMEM;
        }
        if (!d) {
                /* UpdateHelper: DocumentMissingException, an EngineException naming its shard. */
                m = strdup_printf("[%s]: document missing", k->id);
                if (!m)
                        return -ENOMEM;
                return answered(fake_ctx_reply_error(k->c, 404, "document_missing_exception", m,
                                                     ",\"index_uuid\":\"" CONNECTOR_INDEX_UUID
                                                     "\",\"shard\":\"0\",\"index\":\"" FAKE_CONNECTOR_INDEX
                                                     "\"",
                                                     NULL));
        }
        *ret = cJSON_Parse(d->source);
        return *ret ? 0 : -ENOMEM;
}

/* Writes the document when it changed and answers as ConnectorUpdateActionResponse does. */
static int commit(struct call *k, cJSON *source, bool changed) {
        if (changed) {
                _cleanup_free_ char *s = cJSON_PrintUnformatted(source);
                int r;

                if (!s)
                        return -ENOMEM;
                r = fake_store_put_connector(fake_ctx_store(k->c), k->id, s);
                if (r < 0)
                        return r;
        }
        return answered(fake_ctx_reply(
                k->c, 200, strdup(changed ? "{\"result\":\"updated\"}" : "{\"result\":\"noop\"}")));
}

/* An UpdateRequest with a partial document ('doc', consumed). */
static int apply(struct call *k, cJSON *source, cJSON *doc) {
        int r;

        if (!doc)
                return -ENOMEM;
        r = merge(source, doc);
        cJSON_Delete(doc);
        return r < 0 ? r : commit(k, source, r > 0);
}

/* A new object with the given members (each taken; NULL values mean out of memory). */
static cJSON *object_of(const char *key, cJSON *v, const char *key2, cJSON *v2) {
        cJSON *o = cJSON_CreateObject();

        if (!o || !v || (key2 && !v2)) {
                cJSON_Delete(o);
                cJSON_Delete(v);
                cJSON_Delete(v2);
                return NULL;
        }
        cJSON_AddItemToObject(o, key, v);
        if (key2)
                cJSON_AddItemToObject(o, key2, v2);
        return o;
}

/* A new object with those of the two request members that are strings, under their names. */
static cJSON *strings_of(const cJSON *a, const cJSON *b) {
        const cJSON *both[] = { a, b };
        cJSON *o = cJSON_CreateObject();

        if (!o)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(both); i++)
                if (cJSON_IsString(both[i]) &&
                    !cJSON_AddStringToObject(o, both[i]->string, both[i]->valuestring)) {
                        cJSON_Delete(o);
                        return NULL;
                }
        return o;
}

static const cJSON *member(const cJSON *o, const char *key) {
        return cJSON_GetObjectItemCaseSensitive(o, key);
}

static cJSON *copy_of(const cJSON *v) {
        return v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
}

/* ConnectorStatus.connectorStatus() of the stored status: unknown (or missing) is an
 * IllegalArgumentException, answered as a 400. 1 after answering. */
static int stored_status(struct call *k, const cJSON *source, const char **ret) {
        static const char *const statuses[] = { "created", "needs_configuration", "configured", "connected",
                                                "error" };
        const cJSON *s = member(source, "status");
        _cleanup_free_ char *m = NULL;

        for (size_t i = 0; cJSON_IsString(s) && i < ELEMENTSOF(statuses); i++)
                if (strcasecmp(s->valuestring, statuses[i]) == 0) {
                        *ret = statuses[i];
                        return 0;
                }
        m = strdup_printf("Unknown ConnectorStatus [%s].", cJSON_IsString(s) ? s->valuestring : "null");
        return m ? reply_error(k, 400, "illegal_argument_exception", m) : -ENOMEM;
}

/* ConnectorStateMachine.VALID_TRANSITIONS. */
static bool valid_transition(const char *from, const char *to) {
        static const struct {
                const char *from;
                const char *to[4];
        } table[] = {
                { "created", { "needs_configuration", "error" } },
                { "needs_configuration", { "configured", "error" } },
                { "configured", { "needs_configuration", "configured", "connected", "error" } },
                { "connected", { "connected", "configured", "error" } },
                { "error", { "connected", "configured", "error" } },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].from, from))
                        for (size_t k = 0; k < ELEMENTSOF(table[i].to) && table[i].to[k]; k++)
                                if (streq(table[i].to[k], to))
                                        return true;
        return false;
}

/* The stored connector's filtering, read by CONNECTOR_FILTERING_PARSER, and its first (only)
 * element: a connector keeps its filtering as a list of one. 1 after answering an error. */
static int stored_filtering_first(struct call *k, cJSON **ret) {
        const struct fake_doc *d = fake_store_get_connector(fake_ctx_store(k->c), k->id);
        _cleanup_cjson_ cJSON *parsed = NULL;
        struct locs l = {};
        struct perr e = {};
        const cJSON *list;
        int r;

        r = parse_text(d->source, strlen(d->source), &stored_filtering, k->v9, &l, &e, &parsed);
        if (r == PARSE_FAILED)
                r = answered(reply_perr(k->c, &l, &e));
        locs_done(&l);
        perr_done(&e);
        if (r != 0)
                return r;
        list = member(parsed, "filtering");
        if (!list->child)
                /* connectorFilteringList.get(0) of an empty list, thrown in the listener. */
                return reply_error(k, 500, "index_out_of_bounds_exception",
                                   "Index 0 out of bounds for length 0");
        *ret = cJSON_Duplicate(list->child, true);
        return *ret ? 0 : -ENOMEM;
}

/* ConnectorFiltering.isDefaultFilteringRule(). */
static bool is_default_rule(const cJSON *r) {
        static const char *const want[][2] = {
                { "field", "_" },    { "id", "DEFAULT" }, { "policy", "include" },
                { "rule", "regex" }, { "value", ".*" },
        };

        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                const cJSON *v = member(r, want[i][0]);

                if (!cJSON_IsString(v) || !streq(v->valuestring, want[i][1]))
                        return false;
        }
        return true;
}

/* ConnectorFiltering.sortFilteringRulesByOrder(): the rules by order (a stable sort), the default
 * rule last, its order one past the last rule's, its timestamps those the first default rule was
 * created at (or now). */
static cJSON *sort_rules(const cJSON *given) {
        _cleanup_cjson_ cJSON *out = cJSON_CreateArray();
        _cleanup_free_ const cJSON **v = NULL;
        const cJSON *first_default = NULL;
        size_t n = 0, count = (size_t) cJSON_GetArraySize(given);
        cJSON *def;
        char now[40];
        const char *ts;
        double order = 0;

        v = calloc(count + 1, sizeof(*v));
        if (!out || !v)
                return NULL;
        for (const cJSON *it = given->child; it; it = it->next) {
                if (is_default_rule(it)) {
                        if (!first_default)
                                first_default = it;
                        continue;
                }
                v[n++] = it;
        }
        for (size_t i = 1; i < n; i++)
                for (size_t j = i;
                     j > 0 && member(v[j - 1], "order")->valuedouble > member(v[j], "order")->valuedouble;
                     j--) {
                        const cJSON *t = v[j];

                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
        for (size_t i = 0; i < n; i++) {
                cJSON *c = cJSON_Duplicate(v[i], true);

                if (!c)
                        return NULL;
                cJSON_AddItemToArray(out, c);
        }
        if (n > 0)
                order = member(v[n - 1], "order")->valuedouble + 1;
        iso8601_now(now, sizeof(now));
        ts = first_default ? member(first_default, "created_at")->valuestring : now;
        def = cJSON_CreateObject();
        if (!def)
                return NULL;
        cJSON_AddItemToArray(out, def);
        if (!cJSON_AddStringToObject(def, "created_at", ts) || !cJSON_AddStringToObject(def, "field", "_") ||
            !cJSON_AddStringToObject(def, "id", "DEFAULT") ||
            !cJSON_AddNumberToObject(def, "order", order) ||
            !cJSON_AddStringToObject(def, "policy", "include") ||
            !cJSON_AddStringToObject(def, "rule", "regex") ||
            !cJSON_AddStringToObject(def, "updated_at", ts) || !cJSON_AddStringToObject(def, "value", ".*"))
                return NULL;
        return TAKE_PTR(out);
}

/* The filtering list a draft change writes: [{"active", "domain", "draft"}], taking 'draft'. */
static cJSON *filtering_with(const cJSON *active, cJSON *draft) {
        cJSON *f = cJSON_CreateObject(), *list = cJSON_CreateArray(), *a = cJSON_Duplicate(active, true);

        if (!f || !list || !a || !draft) {
                cJSON_Delete(f);
                cJSON_Delete(list);
                cJSON_Delete(a);
                cJSON_Delete(draft);
                return NULL;
        }
        cJSON_AddItemToObject(f, "active", a);
        if (!cJSON_AddStringToObject(f, "domain", "DEFAULT")) {
                cJSON_Delete(f);
                cJSON_Delete(list);
                cJSON_Delete(draft);
                return NULL;
        }
        cJSON_AddItemToObject(f, "draft", draft);
        cJSON_AddItemToArray(list, f);
        return list;
}

/* A draft: advanced_snippet, rules, validation (each taken). */
static cJSON *draft_of(cJSON *snippet_v, cJSON *rules_v, cJSON *validation_v) {
        cJSON *d = cJSON_CreateObject();

        if (!d || !snippet_v || !rules_v || !validation_v) {
                cJSON_Delete(d);
                cJSON_Delete(snippet_v);
                cJSON_Delete(rules_v);
                cJSON_Delete(validation_v);
                return NULL;
        }
        cJSON_AddItemToObject(d, "advanced_snippet", snippet_v);
        cJSON_AddItemToObject(d, "rules", rules_v);
        cJSON_AddItemToObject(d, "validation", validation_v);
        return d;
}

/* ---- the endpoints ---- */

/* Each returns 1 once answered (or -ENOMEM). */

static int update_name(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *name, *description;
        int r;

        if ((r = read_body(k, at_least(k, 8, 13) ? &name_request : &name_request_8_12)) != 0)
                return r;
        name = member(k->body, "name");
        description = member(k->body, "description");
        validate_id(k);
        if (!at_least(k, 8, 13)) {
                if (!cJSON_IsString(name) || !*name->valuestring)
                        invalid(k, "[name] cannot be null or empty.");
        } else if (!cJSON_IsString(name) && !cJSON_IsString(description))
                invalid(k, "[name] and [description] cannot both be [null]. Please provide a value for at "
                           "least "
                           "one of them.");
        if ((r = check_invalid(k)) != 0 || (r = load(k, false, &source)) != 0)
                return r;
        /* Request.toXContent(): the ones that are not null. */
        return apply(k, source, strings_of(name, description));
}

/* The full form replaces the configuration with a painless script (and sets status configured):
 * "updated" whatever it held. The values form merges {key: {"value": v}} for keys the schema
 * has already. 8.12 had the full form only, and no read first (which the values check needs:
 * from 8.13 on, both forms read the connector first, as 9.x does). The earliest code read
 * merged the full form as a partial document; the script ("non-additive") is taken for 8.12 as
 * well, as the 8.13 development code and 9.x have it. */
static int update_configuration(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *conf, *values, *existing;
        bool v8_12 = !at_least(k, 8, 13);
        int r;

        if ((r = read_body(k, v8_12 ? &configuration_request_8_12 : &configuration_request)) != 0)
                return r;
        conf = member(k->body, "configuration");
        values = member(k->body, "values");
        validate_id(k);
        if (v8_12) {
                if (!conf)
                        invalid(k, "[configuration] cannot be null.");
        } else {
                if (!conf && !values)
                        invalid(k, "[configuration] and [values] cannot both be null.");
                if (conf && values)
                        invalid(k,
                                "[configuration] and [values] cannot both be provided in the same request.");
        }
        if ((r = check_invalid(k)) != 0 || (r = load(k, !v8_12, &source)) != 0)
                return r;
        if (conf) {
                if ((r = set_field(source, "configuration", cJSON_Duplicate(conf, true))) < 0 ||
                    (r = set_field(source, "status", cJSON_CreateString("configured"))) < 0)
                        return r;
                return commit(k, source, true);
        }
        existing = member(source, "configuration");
        if (!cJSON_IsObject(existing))
                /* getConnectorConfigurationFromSearchResult(connector).keySet() on a connector without
                 * one, in the listener: the JDK's helpful message names the method. */
                return reply_error(
                        k, 500, "null_pointer_exception",
                        "Cannot invoke \"java.util.Map.keySet()\" because the return value of "
                        "\"org.elasticsearch.xpack.application.connector.ConnectorIndexService."
                        "getConnectorConfigurationFromSearchResult(org.elasticsearch.xpack.application."
                        "connector.ConnectorSearchResult)\" is null");
        {
                _cleanup_free_ const char **keys = NULL;
                size_t n = 0, n_unknown = 0;
                _cleanup_cjson_ cJSON *doc = NULL;
                cJSON *changes;

                keys = calloc((size_t) cJSON_GetArraySize(values) + 1, sizeof(*keys));
                if (!keys)
                        return -ENOMEM;
                /* The values are a HashMap (XContentParser.map()); the unknown ones are collected
                 * into a HashSet (Collectors.toSet()): both iterate in their own bucket order. */
                for (const cJSON *it = values->child; it; it = it->next)
                        keys[n++] = it->string;
                fake_java_hash_order(keys, n);
                for (size_t i = 0; i < n; i++)
                        if (!cJSON_GetObjectItemCaseSensitive(existing, keys[i]))
                                keys[n_unknown++] = keys[i];
                if (n_unknown > 0) {
                        struct strbuf sb = {};
                        _cleanup_free_ char *list = NULL;

                        fake_java_hash_order(keys, n_unknown);
                        for (size_t i = 0; i < n_unknown; i++)
                                sb_printf(&sb, "%s%s", i ? ", " : "", keys[i]);
                        if ((r = sb_steal(&sb, &list)) < 0)
                                return r;
                        return reply_status_exception(
                                k,
                                "Unknown [configuration] fields in the request payload: [%s]. "
                                "Remove them from request or register their schema first.",
                                list);
                }
                changes = cJSON_CreateObject();
                doc = object_of("configuration", changes, "status", cJSON_CreateString("configured"));
                if (!doc)
                        return -ENOMEM;
                for (const cJSON *it = values->child; it; it = it->next) {
                        cJSON *entry = object_of("value", cJSON_Duplicate(it, true), NULL, NULL);

                        if (!entry || !cJSON_AddItemToObject(changes, it->string, entry)) {
                                cJSON_Delete(entry);
                                return -ENOMEM;
                        }
                }
                return apply(k, source, TAKE_PTR(doc));
        }
}

static int update_scheduling(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *sched;
        int r;

        if ((r = read_body(k, at_least(k, 8, 14) ? &scheduling_request : &scheduling_request_8_12)) != 0)
                return r;
        sched = member(k->body, "scheduling");
        validate_id(k);
        /* As Elasticsearch checks it: incremental twice, access_control never. */
        if (at_least(k, 8, 14) && !member(sched, "full") && !member(sched, "incremental"))
                invalid(k, "[scheduling] object needs to define at least one schedule type: [full | "
                           "incremental | "
                           "access_control]");
        if ((r = check_invalid(k)) != 0 || (r = load(k, false, &source)) != 0)
                return r;
        return apply(k, source, object_of("scheduling", cJSON_Duplicate(sched, true), NULL, NULL));
}

static int update_pipeline(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        int r;

        if ((r = read_body(k, &pipeline_request)) != 0)
                return r;
        validate_id(k);
        if ((r = check_invalid(k)) != 0 || (r = load(k, false, &source)) != 0)
                return r;
        return apply(k, source, object_of("pipeline", copy_of(member(k->body, "pipeline")), NULL, NULL));
}

/* The full "filtering" list replaces the stored one (active rules too); from 8.14 on, "rules"
 * and "advanced_snippet" change the draft only, which then waits for validation ("edited"). */
static int update_filtering(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL, *first = NULL;
        const cJSON *list, *rules_v, *snippet_v, *draft;
        cJSON *new_rules;
        int r;

        if ((r = read_body(k, at_least(k, 8, 14) ? &filtering_request : &filtering_request_8_12)) != 0)
                return r;
        list = member(k->body, "filtering");
        rules_v = member(k->body, "rules");
        snippet_v = member(k->body, "advanced_snippet");
        validate_id(k);
        if (!list) {
                if (!rules_v && !snippet_v)
                        invalid(k, "[advanced_snippet] and [rules] cannot be both [null].");
        } else if (rules_v || snippet_v)
                invalid(k, "If [filtering] is specified, [rules] and [advanced_snippet] should not be "
                           "present in "
                           "the request body.");
        if ((r = check_invalid(k)) != 0)
                return r;
        if (list) {
                if ((r = load(k, false, &source)) != 0)
                        return r;
                return apply(k, source, object_of("filtering", cJSON_Duplicate(list, true), NULL, NULL));
        }
        if ((r = load(k, true, &source)) != 0 || (r = stored_filtering_first(k, &first)) != 0)
                return r;
        draft = member(first, "draft");
        new_rules = rules_v ? sort_rules(rules_v) : cJSON_Duplicate(member(draft, "rules"), true);
        return apply(
                k, source,
                object_of("filtering",
                          filtering_with(
                                  member(first, "active"),
                                  draft_of(cJSON_Duplicate(snippet_v ?: member(draft, "advanced_snippet"),
                                                           true),
                                           new_rules,
                                           object_of("errors", cJSON_CreateArray(), "state",
                                                     cJSON_CreateString("edited")))),
                          NULL, NULL));
}

static int update_filtering_activate(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL, *first = NULL;
        const cJSON *draft, *state;
        int r;

        (void) fake_ctx_param(k->c, "connector_id");
        if ((r = fake_ctx_finish_params(k->c, false)) != 0)
                return r;
        validate_id(k);
        if ((r = check_invalid(k)) != 0 || (r = load(k, true, &source)) != 0 ||
            (r = stored_filtering_first(k, &first)) != 0)
                return r;
        draft = member(first, "draft");
        state = member(member(draft, "validation"), "state");
        if (!streq(state->valuestring, "valid"))
                return reply_status_exception(
                        k,
                        "Filtering draft needs to be validated by the connector service before activation. "
                        "Current "
                        "filtering draft validation state [%s] is not equal to [valid].",
                        state->valuestring);
        return apply(
                k, source,
                object_of("filtering", filtering_with(draft, cJSON_Duplicate(draft, true)), NULL, NULL));
}

static int update_filtering_validation(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL, *first = NULL;
        const cJSON *draft;
        int r;

        if ((r = read_body(k, &filtering_validation_request)) != 0)
                return r;
        validate_id(k);
        if ((r = check_invalid(k)) != 0 || (r = load(k, true, &source)) != 0 ||
            (r = stored_filtering_first(k, &first)) != 0)
                return r;
        draft = member(first, "draft");
        return apply(
                k, source,
                object_of("filtering",
                          filtering_with(member(first, "active"),
                                         draft_of(cJSON_Duplicate(member(draft, "advanced_snippet"), true),
                                                  cJSON_Duplicate(member(draft, "rules"), true),
                                                  cJSON_Duplicate(member(k->body, "validation"), true))),
                          NULL, NULL));
}

/* Whether a live connector other than this one has the index (isDataIndexNameAlreadyInUse()). */
static int index_in_use(struct call *k, const char *index, bool *ret) {
        const char *const one[] = { index };
        struct fake_connector_query q = { .index_names = one, .n_index_names = 1 };
        _cleanup_free_ const struct fake_doc **docs = NULL;
        size_t n;
        int r;

        r = fake_store_list_connectors(fake_ctx_store(k->c), &q, &docs, &n);
        if (r < 0)
                return r;
        *ret = false;
        for (size_t i = 0; i < n; i++)
                if (!streq(docs[i]->id, k->id))
                        *ret = true;
        return 0;
}

/* 8.x updates the document straight after the index name check; 9.x reads the connector first
 * and keeps an Elastic-managed (native) connector on "content-" indices
 * (elastic/elasticsearch#117778, "for 9.x"). */
static int update_index_name(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *index;
        bool in_use = false;
        int r;

        if ((r = read_body(k, &index_name_request)) != 0)
                return r;
        index = member(k->body, "index_name");
        validate_id(k);
        if (cJSON_IsString(index)) {
                _cleanup_free_ char *problem = NULL;

                r = fake_index_name_check(index->valuestring, &problem);
                if (r < 0)
                        return r;
                /* The InvalidIndexNameException's toString(): "[index] Class[message]". */
                if (r > 0)
                        invalid(k, "[%s] InvalidIndexNameException[Invalid index name [%s], %s]",
                                index->valuestring, index->valuestring, problem);
        }
        if ((r = check_invalid(k)) != 0)
                return r;
        if (cJSON_IsString(index) && (r = index_in_use(k, index->valuestring, &in_use)) < 0)
                return r;
        if (in_use)
                return reply_status_exception(k, "Index name [%s] is used by another connector.",
                                              index->valuestring);
        if ((r = load(k, k->v9, &source)) != 0)
                return r;
        if (k->v9 && cJSON_IsTrue(member(source, "is_native")) && cJSON_IsString(index) &&
            !startswith(index->valuestring, MANAGED_INDEX_PREFIX))
                return reply_status_exception(
                        k,
                        "Index attached to an Elastic-managed connector must start with the "
                        "prefix: [" MANAGED_INDEX_PREFIX "]. The index name in the payload "
                        "[%s] doesn't comply with this requirement.",
                        index->valuestring);
        return apply(k, source, object_of("index_name", copy_of(index), NULL, NULL));
}

/* The status becomes needs_configuration, unless it was created. */
static int update_service_type(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *type;
        const char *prev = NULL;
        int r;

        if ((r = read_body(k, &service_type_request)) != 0)
                return r;
        type = member(k->body, "service_type");
        validate_id(k);
        if (!cJSON_IsString(type) || !*type->valuestring)
                invalid(k, "[service_type] cannot be [null] or [\"\"].");
        if ((r = check_invalid(k)) != 0 || (r = load(k, true, &source)) != 0 ||
            (r = stored_status(k, source, &prev)) != 0)
                return r;
        /* Map.of(service_type, status): its order is the JVM's; declaration order here. */
        return apply(
                k, source,
                object_of("service_type", cJSON_Duplicate(type, true), "status",
                          cJSON_CreateString(streq(prev, "created") ? "created" : "needs_configuration")));
}

/* 8.x sets status configured, whatever it was (elastic/elasticsearch#104654); 9.x reads the
 * connector, refuses a native one on an index without "content-", and turns connected into
 * configured only (the 9.x ConnectorIndexService). */
static int update_native(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *is_native, *index;
        const char *status = "configured";
        int r;

        if ((r = read_body(k, &native_request)) != 0)
                return r;
        is_native = member(k->body, "is_native");
        validate_id(k);
        if ((r = check_invalid(k)) != 0 || (r = load(k, k->v9, &source)) != 0)
                return r;
        if (k->v9) {
                index = member(source, "index_name");
                if (cJSON_IsTrue(is_native) && cJSON_IsString(index) &&
                    !startswith(index->valuestring, MANAGED_INDEX_PREFIX))
                        return reply_status_exception(k,
                                                      "The index name [%s] attached to the connector [%s] "
                                                      "must start with the required "
                                                      "prefix: [" MANAGED_INDEX_PREFIX
                                                      "] to be Elastic-managed. Please update the attached "
                                                      "index first to comply with this requirement.",
                                                      index->valuestring, k->id);
                if ((r = stored_status(k, source, &status)) != 0)
                        return r;
                if (streq(status, "connected") && valid_transition(status, "configured"))
                        status = "configured";
        }
        return apply(k, source,
                     object_of("is_native", cJSON_CreateBool(cJSON_IsTrue(is_native)), "status",
                               cJSON_CreateString(status)));
}

static int update_api_key_id(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *key, *secret;
        int r;

        if ((r = read_body(k, &api_key_id_request)) != 0)
                return r;
        key = member(k->body, "api_key_id");
        secret = member(k->body, "api_key_secret_id");
        validate_id(k);
        if (!cJSON_IsString(key) && !cJSON_IsString(secret))
                invalid(k, "[api_key_id] and [api_key_secret_id] cannot both be [null]. Please provide a "
                           "value for "
                           "at least one of them.");
        if ((r = check_invalid(k)) != 0 || (r = load(k, false, &source)) != 0)
                return r;
        return apply(k, source, strings_of(key, secret));
}

/* A partial merge: the features given change, the others stay. */
static int update_features(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *f;
        int r;

        if ((r = read_body(k, &features_request)) != 0)
                return r;
        f = member(k->body, "features");
        validate_id(k);
        if ((r = check_invalid(k)) != 0)
                return r;
        /* Map.of("features", null) throws before any request is sent, found or not. */
        if (!f)
                return reply_error(k, 500, "null_pointer_exception", NULL);
        if ((r = load(k, false, &source)) != 0)
                return r;
        return apply(k, source, object_of("features", cJSON_Duplicate(f, true), NULL, NULL));
}

static int update_status(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *status;
        const char *prev = NULL;
        int r;

        if ((r = read_body(k, &status_request)) != 0)
                return r;
        status = member(k->body, "status");
        validate_id(k);
        if (!status)
                invalid(k, "[status] cannot be [null].");
        if ((r = check_invalid(k)) != 0 || (r = load(k, true, &source)) != 0 ||
            (r = stored_status(k, source, &prev)) != 0)
                return r;
        if (!valid_transition(prev, status->valuestring)) {
                _cleanup_free_ char *m = NULL, *cause = NULL;
                struct strbuf sb = {};

                /* An ElasticsearchStatusException caused by ConnectorInvalidStatusTransitionException. */
                m = strdup_printf(
                        "Invalid transition attempt from [%s] to [%s]. Such a status transition is not "
                        "supported by the Connector Protocol.",
                        prev, status->valuestring);
                if (!m)
                        return -ENOMEM;
                sb_puts(&sb, ",\"caused_by\":{\"type\":\"connector_invalid_status_transition_exception\","
                             "\"reason\":");
                sb_json_cstr(&sb, m);
                sb_puts(&sb, "}");
                if ((r = sb_steal(&sb, &cause)) < 0)
                        return r;
                return answered(fake_ctx_reply_error(k->c, 400, "status_exception", m, NULL, cause));
        }
        return apply(k, source, object_of("status", cJSON_Duplicate(status, true), NULL, NULL));
}

/* From 8.15 (elastic/elasticsearch#110192) an error sets status error, and null (or "") sets
 * connected; before, only the error field changes. A null clears it there as the earliest code
 * wrote it (Request.toXContent()); the 8.13 development code put it in a Map.of(), which would
 * have refused the null with a 500: which of the two 8.13 and 8.14 shipped could not be read. */
static int update_error(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        const cJSON *error;
        cJSON *doc;
        int r;

        if ((r = read_body(k, &error_request)) != 0)
                return r;
        error = member(k->body, "error");
        validate_id(k);
        if ((r = check_invalid(k)) != 0 || (r = load(k, false, &source)) != 0)
                return r;
        if (!at_least(k, 8, 15))
                return apply(k, source, object_of("error", copy_of(error), NULL, NULL));
        doc = object_of(
                "error", copy_of(error), "status",
                cJSON_CreateString(cJSON_IsString(error) && *error->valuestring ? "error" : "connected"));
        /* A HashMap of the two. */
        if (doc && java_hash_order_object(doc) < 0) {
                cJSON_Delete(doc);
                return -ENOMEM;
        }
        return apply(k, source, doc);
}

static int update_check_in(struct call *k) {
        _cleanup_cjson_ cJSON *source = NULL;
        char now[40];
        int r;

        (void) fake_ctx_param(k->c, "connector_id");
        if ((r = fake_ctx_finish_params(k->c, false)) != 0)
                return r;
        validate_id(k);
        if ((r = check_invalid(k)) != 0 || (r = load(k, false, &source)) != 0)
                return r;
        iso8601_now(now, sizeof(now));
        return apply(k, source, object_of("last_seen", cJSON_CreateString(now), NULL, NULL));
}

/* ConnectorSyncInfo.toXContent() writes what is not null, in its own order, then sync_cursor. */
static int update_last_sync(struct call *k) {
        static const char *const order[] = {
                "last_access_control_sync_error",
                "last_access_control_sync_status",
                "last_access_control_sync_scheduled_at",
                "last_deleted_document_count",
                "last_incremental_sync_scheduled_at",
                "last_indexed_document_count",
                "last_sync_error",
                "last_sync_scheduled_at",
                "last_sync_status",
                "last_synced",
                "sync_cursor",
        };
        _cleanup_cjson_ cJSON *source = NULL, *doc = NULL;
        int r;

        if ((r = read_body(k, &last_sync_request)) != 0)
                return r;
        validate_id(k);
        if ((r = check_invalid(k)) != 0 || (r = load(k, false, &source)) != 0)
                return r;
        doc = cJSON_CreateObject();
        if (!doc)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                const cJSON *v = member(k->body, order[i]);

                if (v && !cJSON_IsNull(v) && (r = add_copy(doc, order[i], v)) < 0)
                        return r;
        }
        return apply(k, source, TAKE_PTR(doc));
}

/* ---- what fake-update.h lends the other endpoint modules ---- */

/* TimeUtils.parseTimeFieldToInstant() behind ConnectorUtils.parseInstant(), for a field declared
 * OBJECT_OR_STRING: a string is a date; an object is a token it does not take. */
static int parse_time_field(struct pc *p, const cJSON *v, cJSON **ret) {
        if (!cJSON_IsString(v))
                return perr_raise(p->err, loc_value(p->locs, v), "illegal_argument_exception", false,
                                  "unexpected token [%s] for [%s]", fake_jackson_token(v), p->field->name);
        return parse_instant(p, v, ret);
}

/* The constructing function of a lent parser: what was given, in declaration order. */
static int build_lent(struct pc *p, cJSON **vals, cJSON **ret) {
        return build_request(p->top, vals, ret);
}

int fake_update_read_body(struct fake_ctx *c, const char *parser, const struct fake_body_field *fields,
                          size_t n, cJSON **ret) {
        static const struct {
                enum vt vt;
                value_fn parse;
        } types[] = {
                [FAKE_BODY_STRING] = { VT_STRING, NULL },
                [FAKE_BODY_LONG] = { VT_LONG, NULL },
                [FAKE_BODY_MAP] = { VT_OBJECT, parse_map },
                [FAKE_BODY_INSTANT] = { VT_OBJECT_OR_STRING, parse_time_field },
        };
        const struct fake_request *req = fake_ctx_request(c);
        _cleanup_free_ struct field *f = NULL;
        struct schema s;
        struct locs l = {};
        struct perr e = {};
        cJSON *body = NULL;
        int r;

        if (req->body_len == 0)
                return answered(fake_ctx_reply_error(c, 400, "parse_exception", "request body is required",
                                                     NULL, NULL));
        f = calloc(n, sizeof(*f));
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                f[i] = (struct field){ fields[i].name, types[fields[i].type].vt, fields[i].required,
                                       types[fields[i].type].parse, NULL };
        s = (struct schema){ parser, false, f, n, build_lent };
        r = parse_text(req->body, req->body_len, &s, fake_version_at_least(fake_ctx_version(c), 9, 0), &l,
                       &e, &body);
        if (r == PARSE_FAILED)
                r = answered(reply_perr(c, &l, &e));
        locs_done(&l);
        perr_done(&e);
        if (r != 0)
                return r;
        r = fake_ctx_finish_params(c, true);
        if (r != 0) {
                cJSON_Delete(body);
                return r;
        }
        *ret = body;
        return 0;
}

int fake_update_merge(cJSON *source, cJSON *changes) {
        return merge(source, changes);
}

int fake_java_hash_order_object(cJSON *o) {
        return java_hash_order_object(o);
}

int fake_update_handle(struct fake_ctx *c, enum fake_update_endpoint endpoint) {
        static int (*const handlers[_FAKE_UPDATE_MAX])(struct call * k) = {
                [FAKE_UPDATE_NAME] = update_name,
                [FAKE_UPDATE_CONFIGURATION] = update_configuration,
                [FAKE_UPDATE_SCHEDULING] = update_scheduling,
                [FAKE_UPDATE_PIPELINE] = update_pipeline,
                [FAKE_UPDATE_FILTERING] = update_filtering,
                [FAKE_UPDATE_FILTERING_ACTIVATE] = update_filtering_activate,
                [FAKE_UPDATE_FILTERING_VALIDATION] = update_filtering_validation,
                [FAKE_UPDATE_INDEX_NAME] = update_index_name,
                [FAKE_UPDATE_SERVICE_TYPE] = update_service_type,
                [FAKE_UPDATE_NATIVE] = update_native,
                [FAKE_UPDATE_API_KEY_ID] = update_api_key_id,
                [FAKE_UPDATE_FEATURES] = update_features,
                [FAKE_UPDATE_STATUS] = update_status,
                [FAKE_UPDATE_ERROR] = update_error,
                [FAKE_UPDATE_CHECK_IN] = update_check_in,
                [FAKE_UPDATE_LAST_SYNC] = update_last_sync,
        };
        struct call k = {
                .c = c,
                .v = fake_ctx_version(c),
                .endpoint = endpoint,
                .id = fake_ctx_path_param(c),
        };
        int r;

        k.v9 = fake_version_at_least(k.v, 9, 0);
        /* RestRequest.param("connector_id"), read before the body. */
        (void) fake_ctx_param(c, "connector_id");
        r = handlers[endpoint](&k);
        if (k.body)
                cJSON_Delete(k.body);
        sb_done(&k.invalid);
        return r < 0 ? r : 0;
}

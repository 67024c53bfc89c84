/* libFuzzer target: converging a declared connector (converge_diff_build()) on arbitrary input.
 * The first byte chooses the Elasticsearch version (its low 3 bits: 8.12, the oldest the daemon
 * talks to, 8.13, 8.14, 8.15, 8.19, 9.0, 9.1, 9.2) and allow_disruptive (bit 3); the rest is split
 * at its first NUL byte into the declared fields (plan_declared.fields) and the connector's
 * document. Seeded with the cases of tests/test-converge.c. A configuration value
 * {"secret": NAME} is read through a resolver that fails for names starting with 'x' and
 * otherwise gives "SECRET-VALUE:" NAME.
 *
 * Checked: the result is 0, or -EBADMSG or the resolver's error with a message (never -ENOMEM:
 * nothing fails to allocate here); on success the counts agree with the fields, each field not
 * set says why, a secret field has neither from nor to, no field's text holds a secret's value
 * (unless the input holds the marker itself), each request goes to an endpoint the version
 * has (and the disruptive ones only when allowed), each body is a JSON object, and requests are
 * sent exactly when some field is set. converge_create_body() and
 * converge_declares_configuration() run on the declared part too. Crashes, sanitizer reports
 * and failed checks fail. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "converge.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MARKER "SECRET-VALUE:"

static int get_secret(const char *name, char **ret_value, char **reterr_message, void *userdata) {
        if (name[0] == 'x') {
                *reterr_message = strdup_printf("cannot read the secret '%s'", name);
                return *reterr_message ? -ENOENT : -ENOMEM;
        }
        *ret_value = strdup_printf(MARKER "%s", name);
        return *ret_value ? 0 : -ENOMEM;
}

/* The version an endpoint came with, major * 1000 + minor. */
static unsigned endpoint_since(const char *endpoint, bool *ret_disruptive) {
        static const struct {
                const char *endpoint;
                unsigned since;
                bool disruptive;
        } table[] = {
                { "_name", 8012, false },       { "_pipeline", 8012, false },
                { "_scheduling", 8012, false }, { "_configuration", 8013, false },
                { "_index_name", 8013, true },  { "_service_type", 8013, true },
                { "_native", 8013, true },      { "_filtering", 8014, false },
                { "_features", 8015, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].endpoint, endpoint)) {
                        *ret_disruptive = table[i].disruptive;
                        return table[i].since;
                }
        assert(!"a request to an unknown endpoint");
        return 0;
}

static bool is_create_field(const char *key) {
        static const char *const keys[] = { "description", "index_name", "is_native",
                                            "language",    "name",       "service_type" };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(keys[i], key))
                        return true;
        return false;
}

static bool holds(const char *s, const char *needle) {
        return s && strstr(s, needle);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const unsigned versions[][2] = { { 8, 12 }, { 8, 13 }, { 8, 14 }, { 8, 15 },
                                                { 8, 19 }, { 9, 0 },  { 9, 1 },  { 9, 2 } };
        struct converge_secrets secrets = { get_secret, NULL };
        _cleanup_free_ char *fields = NULL, *message = NULL, *names = NULL, *create = NULL;
        const char *live, *nul;
        struct converge_diff d = {};
        unsigned major, minor;
        bool allow, marker;
        size_t fields_size, live_size, n_set = 0, n_drift = 0, create_size = 0;
        int r;

        if (size < 1)
                return 0;
        major = versions[data[0] & 7][0];
        minor = versions[data[0] & 7][1];
        allow = data[0] & 8;
        data++;
        size--;
        nul = memchr(data, 0, size);
        fields_size = nul ? (size_t) (nul - (const char *) data) : size;
        live = nul ? nul + 1 : (const char *) data + size;
        live_size = size - fields_size - (nul ? 1 : 0);
        fields = strndup((const char *) data, fields_size);
        assert(fields);
        marker = memmem(data, size, MARKER, strlen(MARKER)) != NULL;

        r = converge_diff_build(fields, live, live_size, major, minor, allow, &secrets, &d, &message);
        if (r < 0) {
                assert(r == -EBADMSG || r == -ENOENT);
                assert(message && *message);
                assert(d.n_fields == 0 && d.n_requests == 0 && !d.fields && !d.requests);
        } else {
                assert(r == 0);
                for (size_t i = 0; i < d.n_fields; i++) {
                        const struct converge_field *f = d.fields + i;

                        assert(f->field && *f->field);
                        assert(converge_state_to_string(f->state));
                        assert(f->state == CONVERGE_SET ? !f->why : f->why && *f->why);
                        assert(f->secret ? !f->from && !f->to : f->from && f->to);
                        if (!marker)
                                assert(!holds(f->from, MARKER) && !holds(f->to, MARKER) &&
                                       !holds(f->field, MARKER));
                        if (f->state == CONVERGE_SET)
                                n_set++;
                        else if (f->state != CONVERGE_AWAITING_SCHEMA)
                                n_drift++;
                }
                assert(n_set == d.n_set && n_drift == d.n_drift);
                assert((d.n_set > 0) == (d.n_requests > 0));
                for (size_t i = 0; i < d.n_requests; i++) {
                        const struct converge_request *q = d.requests + i;
                        bool disruptive = false;
                        unsigned since = endpoint_since(q->endpoint, &disruptive);
                        cJSON *body;

                        assert(major * 1000 + minor >= since);
                        assert(!disruptive || allow);
                        assert(q->body && q->body_size == strlen(q->body));
                        body = cJSON_ParseWithLength(q->body, q->body_size);
                        assert(cJSON_IsObject(body));
                        cJSON_Delete(body);
                        /* Each endpoint once. */
                        for (size_t j = 0; j < i; j++)
                                assert(!streq(d.requests[j].endpoint, q->endpoint));
                }
                names = converge_diff_set_names(&d);
                assert(names);
                converge_diff_done(&d);
        }

        r = converge_create_body(fields, &create, &create_size);
        assert(r == 0 || r == -EBADMSG);
        if (r == 0) {
                cJSON *body = cJSON_Parse(create);

                assert(cJSON_IsObject(body) && create_size == strlen(create));
                for (const cJSON *m = body->child; m; m = m->next)
                        assert(is_create_field(m->string));
                cJSON_Delete(body);
        }
        (void) converge_declares_configuration(fields);
        return 0;
}

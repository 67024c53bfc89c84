/* The connector secrets API: see fake-secret.h.
 *
 * Sources (elastic/elasticsearch, x-pack/plugin/ent-search/.../application/connector/secrets/):
 * the Rest*ConnectorSecretAction handlers (routes, the "id" parameter, which read a body and
 * how), PostConnectorSecretRequest and PutConnectorSecretRequest (parsers and validate()),
 * GetConnectorSecretRequest and ConnectorSecretsConstants, the responses (PutConnectorSecretResponse
 * answers 201 for "created"), ConnectorSecretsIndexService (the index, what each call writes and
 * when it answers "No secret with id [ID]"), the pull requests that added the API (GET, POST,
 * DELETE in January 2024, PUT in elastic/elasticsearch#105148, February 2024: all in 8.13) and
 * the YAML REST tests (20_connector_secret_put, 30_connector_secret_get).
 *
 * The index is created by the first write. Before, a GET or DELETE fails on the missing index:
 * IndexNotFoundException, which the service does not translate (the sync job service does); its
 * rendering ("no such index [.connector-secrets]" with resource.type, resource.id, index_uuid and
 * index) is Elasticsearch's usual one for a missing index, not read in this service's tests. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fake-secret.h"
#include "fake-api-internal.h"
#include "fake-store.h"
#include "fake-update.h"
#include "fake-util.h"
#include "util.h"

static inline void cjson_deletep(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}
#define _cleanup_cjson_ _cleanup_(cjson_deletep)

/* ConnectorSecretsIndexService.CONNECTOR_SECRETS_INDEX_NAME (an alias of .connector-secrets-1). */
#define SECRETS_INDEX ".connector-secrets"

/* An answer sent: the handlers return 1 (or -ENOMEM) once they answered. */
static int answered(int r) {
        return r < 0 ? r : 1;
}

static int reply_error(struct fake_ctx *c, int status, const char *type, const char *reason) {
        return answered(fake_ctx_reply_error(c, status, type, reason, NULL, NULL));
}

/* One validation error of validate(), answered before anything runs. */
static int reply_invalid(struct fake_ctx *c, const char *fmt, ...) _printf_(2, 3);
static int reply_invalid(struct fake_ctx *c, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL, *reason = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        reason = strdup_printf("Validation Failed: %s", m);
        if (!reason)
                return -ENOMEM;
        return reply_error(c, 400, "action_request_validation_exception", reason);
}

/* A secret the id does not name: the missing index, or ResourceNotFoundException. */
static int reply_missing(struct fake_ctx *c, const char *id) {
        _cleanup_free_ char *m = NULL;

        if (!fake_store_secret_index_exists(fake_ctx_store(c)))
                return answered(fake_ctx_reply_error(
                        c, 404, "index_not_found_exception", "no such index [" SECRETS_INDEX "]",
                        ",\"resource.type\":\"index_or_alias\",\"resource.id\":\"" SECRETS_INDEX
                        "\",\"index_uuid\":\"_na_\",\"index\":\"" SECRETS_INDEX "\"",
                        NULL));
        m = strdup_printf("No secret with id [%s]", id);
        return m ? reply_error(c, 404, "resource_not_found_exception", m) : -ENOMEM;
}

static const char *value_of(const cJSON *body) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "value");

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int reply_json(struct fake_ctx *c, int status, struct strbuf *sb) {
        char *body = NULL;
        int r;

        r = sb_steal(sb, &body);
        return r < 0 ? r : answered(fake_ctx_reply(c, status, body));
}

/* contentParser() and the parser "post_secret_request" (strict; "value" optional, read with
 * p.text() from a VALUE_STRING); validate() refuses a missing or empty value; then an index
 * request with a generated id (UUIDs.base64UUID(), as for any document without one). */
static int post(struct fake_ctx *c) {
        static const struct fake_body_field fields[] = {
                { "value", FAKE_BODY_STRING, false },
        };
        cJSON *body = NULL;
        const char *value;
        struct strbuf sb = {};
        char id[21];
        int r;

        r = fake_update_read_body(c, "post_secret_request", fields, ELEMENTSOF(fields), &body);
        if (r != 0)
                return r;
        value = value_of(body);
        if (!value || !*value) {
                cJSON_Delete(body);
                return reply_invalid(c, "1: [value] of the connector secret cannot be [null] or [\"\"];");
        }
        if ((r = fake_ctx_authorize(c, "secret/post")) != 0) {
                cJSON_Delete(body);
                return r;
        }
        fake_ctx_generate_id(c, id);
        r = fake_store_put_secret(fake_ctx_store(c), id, value);
        cJSON_Delete(body);
        if (r < 0)
                return r;
        sb_puts(&sb, "{\"id\":");
        sb_json_cstr(&sb, id);
        sb_puts(&sb, "}");
        return reply_json(c, 200, &sb);
}

/* The parser "connector_secret_put_request" (strict, "value" required) over
 * RestRequest.copyContent(); what the handler answered without a body could not be read: the
 * fake answers as contentParser() does. validate(): the id, then the value, each not null or
 * empty. An index request with the id: "created" (201) or "updated" (200; an index request
 * never answers "noop"). */
static int put(struct fake_ctx *c) {
        static const struct fake_body_field fields[] = {
                { "value", FAKE_BODY_STRING, true },
        };
        const char *id = fake_ctx_path_param(c), *value;
        cJSON *body = NULL;
        struct strbuf sb = {};
        unsigned n = 0;
        int r;

        (void) fake_ctx_param(c, "id");
        r = fake_update_read_body(c, "connector_secret_put_request", fields, ELEMENTSOF(fields), &body);
        if (r != 0)
                return r;
        value = value_of(body);
        if (!*id)
                sb_printf(&sb, "%u: [id] cannot be [null] or [\"\"];", ++n);
        if (!value || !*value)
                sb_printf(&sb, "%u: [value] cannot be [null] or [\"\"];", ++n);
        if (n > 0) {
                _cleanup_free_ char *list = NULL;

                cJSON_Delete(body);
                r = sb_steal(&sb, &list);
                return r < 0 ? r : reply_invalid(c, "%s", list);
        }
        if ((r = fake_ctx_authorize(c, "secret/put")) != 0) {
                cJSON_Delete(body);
                return r;
        }
        r = fake_store_put_secret(fake_ctx_store(c), id, value);
        cJSON_Delete(body);
        if (r < 0)
                return r;
        sb_printf(&sb, "{\"result\":\"%s\"}", r > 0 ? "created" : "updated");
        return reply_json(c, r > 0 ? 201 : 200, &sb);
}

/* GetConnectorSecretRequest.validate(), shared by DeleteConnectorSecretRequest. */
static int check_id(struct fake_ctx *c, const char *id) {
        if (*id)
                return 0;
        return reply_invalid(c, "1: [id] of the connector secret cannot be null or empty.;");
}

/* {"id", "value"}: the document's id and the stored value. */
static int get(struct fake_ctx *c) {
        const char *id = fake_ctx_path_param(c);
        const struct fake_doc *d;
        _cleanup_cjson_ cJSON *source = NULL;
        struct strbuf sb = {};
        int r;

        (void) fake_ctx_param(c, "id");
        if ((r = fake_ctx_finish_params(c, false)) != 0 || (r = check_id(c, id)) != 0 ||
            (r = fake_ctx_authorize(c, "secret/get")) != 0)
                return r;
        d = fake_store_get_secret(fake_ctx_store(c), id);
        if (!d)
                return reply_missing(c, id);
        source = cJSON_Parse(d->source);
        if (!source)
                return -ENOMEM;
        sb_puts(&sb, "{\"id\":");
        sb_json_cstr(&sb, d->id);
        sb_puts(&sb, ",\"value\":");
        sb_json_cstr(&sb, value_of(source));
        sb_puts(&sb, "}");
        return reply_json(c, 200, &sb);
}

/* {"deleted": true}; a delete request that finds nothing is "No secret with id [ID]". */
static int delete (struct fake_ctx *c) {
        const char *id = fake_ctx_path_param(c);
        int r;

        (void) fake_ctx_param(c, "id");
        if ((r = fake_ctx_finish_params(c, false)) != 0 || (r = check_id(c, id)) != 0 ||
            (r = fake_ctx_authorize(c, "secret/delete")) != 0)
                return r;
        if (fake_store_remove_secret(fake_ctx_store(c), id) < 0)
                return reply_missing(c, id);
        return answered(fake_ctx_reply(c, 200, strdup("{\"deleted\":true}")));
}

int fake_secret_handle(struct fake_ctx *c, enum fake_secret_endpoint endpoint) {
        static int (*const handlers[_FAKE_SECRET_MAX])(struct fake_ctx * c) = {
                [FAKE_SECRET_POST] = post,
                [FAKE_SECRET_GET] = get,
                [FAKE_SECRET_PUT] = put,
                [FAKE_SECRET_DELETE] = delete,
        };
        int r = handlers[endpoint](c);

        return r < 0 ? r : 0;
}

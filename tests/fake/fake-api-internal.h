#pragma once

/* What fake-api.c lends the modules that serve endpoints of their own (fake-update.c,
 * fake-syncjob.c, fake-secret.c): the request being answered and the REST layer's helpers, so
 * that every answer goes out the same way (filter_path, ?pretty, the media type). Internal to the
 * fake cluster. */

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "fake-api.h"
#include "fake-store.h"

/* The concrete index behind the .elastic-connectors alias, named in errors about its documents. */
#define FAKE_CONNECTOR_INDEX ".elastic-connectors-v1"

/* One request being answered. Owned by fake-api.c, valid while its handler runs. */
struct fake_ctx;

/* The version the cluster is. */
const struct fake_version *fake_ctx_version(const struct fake_ctx *c);
/* The store (borrowed). */
struct fake_store *fake_ctx_store(struct fake_ctx *c);
/* The request (borrowed). */
const struct fake_request *fake_ctx_request(const struct fake_ctx *c);
/* The decoded path parameter of the route ({connector_id}), owned by the request. */
const char *fake_ctx_path_param(const struct fake_ctx *c);
/* RestRequest.param(): the value or NULL; marks the parameter consumed either way. */
const char *fake_ctx_param(struct fake_ctx *c, const char *key);
/* What BaseRestHandler checks once the handler read its parameters: unrecognized parameters, then
 * a body the handler did not read. 0, 1 after answering with the error, or -ENOMEM. */
int fake_ctx_finish_params(struct fake_ctx *c, bool reads_body);
/* The transport action's authorization (SecurityActionFilter), which runs once the REST handler
 * read the parameters and the body and the request passed its validate(): 'action' is the end
 * of the action's name after "xpack/connector/" ("delete", "update_name", "sync_job/post",
 * "secret/get"). 0 when the credential's role grants it, 1 after answering 403
 * security_exception, or -ENOMEM. A handler calls it once, before it reads or writes the store. */
int fake_ctx_authorize(struct fake_ctx *c, const char *action);
/* A new document id as Elasticsearch generates one (UUIDs.base64UUID(): 20 URL-safe base64
 * characters), drawn from --fault-seed as every id the cluster makes. */
void fake_ctx_generate_id(struct fake_ctx *c, char buf[static 21]);
/* Answers with 'body' (taken; NULL means -ENOMEM), filtered and indented as asked. 0 or -ENOMEM. */
int fake_ctx_reply(struct fake_ctx *c, int status, char *body);
/* Answers with Elasticsearch's error body, see fake_error_body(). 0 or -ENOMEM. */
int fake_ctx_reply_error(struct fake_ctx *c, int status, const char *type, const char *reason,
                         const char *extra, const char *cause);

/* The name Jackson gives the token that starts 'v' (VALUE_STRING, START_OBJECT, ...), as parse
 * errors quote it. */
const char *fake_jackson_token(const cJSON *v);

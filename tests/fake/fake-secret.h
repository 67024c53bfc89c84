#pragma once

/* The connector secrets API, POST _connector/_secret and GET, PUT, DELETE _connector/_secret/<id>,
 * as Elasticsearch serves it from 8.13 on: a secret is a document {"value": ...} of the system
 * index .connector-secrets (kept in the fake's store), written whole by an index request (POST
 * with a generated id, PUT with the given one), read back and deleted by id. The Elasticsearch
 * sources each rule comes from, and the choices made where they could not be read, are in
 * fake-secret.c. */

struct fake_ctx;

enum fake_secret_endpoint {
        FAKE_SECRET_POST,
        FAKE_SECRET_GET,
        FAKE_SECRET_PUT,
        FAKE_SECRET_DELETE,
        _FAKE_SECRET_MAX,
};

/* Answers one request to the secrets API (the route matched it, its version has it). 0 once
 * answered, or -ENOMEM. */
int fake_secret_handle(struct fake_ctx *c, enum fake_secret_endpoint endpoint);

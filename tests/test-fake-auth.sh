#!/bin/bash
# Authentication (API key right, wrong, missing; Basic; Bearer) with Elasticsearch's 401 bodies
# and WWW-Authenticate headers, no secret in the log, HTTPS with a CA made here, and
# --no-product-header.
. "$top_srcdir/tests/lib.sh"

command -v jq >/dev/null || skip_all "jq is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

seed="$top_srcdir/tests/data/fake/connectors.json"
key=$(printf 'key-id:s3cr3t-api-key' | base64)
wrong_secret=$(printf 'key-id:guessed' | base64)
unknown_id=$(printf 'other-id:s3cr3t-api-key' | base64)

start_fake --seed "$seed" --api-key "$key" --basic 'elastic:b4sic-pw' --bearer 'b3arer-token'

fake_curl GET "/_connector?size=1"
is "$HTTP_STATUS" 401 "no credentials: 401"
is "$(jq -r .error.reason "$HTTP_BODY")" "missing authentication credentials for REST request [/_connector?size=1]" \
        "no credentials: Elasticsearch's reason, with the uri"
is "$(jq -r '[.error.type, .error.root_cause[0].type] | join(" ")' "$HTTP_BODY")" "security_exception security_exception" \
        "no credentials: a security_exception"
is "$(http_header WWW-Authenticate | tr '\n' '|')" 'Basic realm="security", charset="UTF-8"|Bearer realm="security"|ApiKey|' \
        "no credentials: the three WWW-Authenticate headers"
is "$(jq -c '.error.header["WWW-Authenticate"]' "$HTTP_BODY")" \
        '["Basic realm=\"security\", charset=\"UTF-8\"","Bearer realm=\"security\"","ApiKey"]' \
        "no credentials: the headers are in the body too"
is "$(jq -c '.error.root_cause[0].header["WWW-Authenticate"] | length' "$HTTP_BODY")" 3 \
        "no credentials: and in the root cause"
is "$(http_header X-elastic-product)" Elasticsearch "a 401 carries the product header"

fake_curl GET /_connector -H "Authorization: ApiKey $key"
is "$HTTP_STATUS" 200 "the right API key"
fake_curl GET /_connector -H "Authorization: apikey $key"
is "$HTTP_STATUS" 200 "the scheme is case-insensitive"
fake_curl GET /_connector -H "Authorization: ApiKey $wrong_secret"
is "$HTTP_STATUS" 401 "a wrong API key secret: 401"
is "$(jq -r '[.error.reason, .error.additional_unsuccessful_credentials] | join(" / ")' "$HTTP_BODY")" \
        "unable to authenticate with provided credentials and anonymous access is not allowed for this request / API key: invalid credentials for API key [key-id]" \
        "a wrong API key secret: Elasticsearch's reason"
fake_curl GET /_connector -H "Authorization: ApiKey $unknown_id"
is "$(jq -r .error.additional_unsuccessful_credentials "$HTTP_BODY")" "API key: unable to find apikey with id other-id" \
        "an unknown API key id"
is "$(jq -r '.error.root_cause[0].additional_unsuccessful_credentials' "$HTTP_BODY")" \
        "API key: unable to find apikey with id other-id" "the root cause names it too"

fake_curl GET /_connector -u 'elastic:b4sic-pw'
is "$HTTP_STATUS" 200 "the right Basic credentials"
fake_curl GET /_connector -u 'elastic:nope'
is "$HTTP_STATUS" 401 "a wrong password: 401"
is "$(jq -r .error.reason "$HTTP_BODY")" "unable to authenticate user [elastic] for REST request [/_connector]" \
        "a wrong password: Elasticsearch's reason"
fake_curl GET /_connector -H 'Authorization: Bearer b3arer-token'
is "$HTTP_STATUS" 200 "the right bearer token"
fake_curl GET /_connector -H 'Authorization: Bearer nope'
is "$HTTP_STATUS" 401 "a wrong bearer token: 401"
fake_curl GET /_connector -H 'Authorization: Negotiate abc'
is "$(jq -r .error.reason "$HTTP_BODY")" "missing authentication credentials for REST request [/_connector]" \
        "an unknown scheme counts as no credentials"

# Authentication comes before routing, as in Elasticsearch.
fake_curl GET /no/such/endpoint
is "$HTTP_STATUS" 401 "an unknown endpoint without credentials is 401"

# The log names the scheme, never the secret.
is "$(fake_requests .auth | sort | uniq -c | awk '{print $2}' | tr '\n' ' ')" '"ApiKey" "Basic" "Bearer" "other" null ' \
        "the log records each scheme"
for secret in "$key" "s3cr3t-api-key" "b4sic-pw" "b3arer-token" "$(printf 'elastic:b4sic-pw' | base64)" "guessed"; do
        grep -qF -- "$secret" "$FAKE_LOG"
        is "$?" 1 "the log never holds the secret '${secret:0:6}...'"
done
stop_fake

# Before 8.15 the Basic challenge had no comma.
start_fake --api-key "$key" --version 8.13.4
fake_curl GET /
is "$(http_header WWW-Authenticate | head -n 1)" 'Basic realm="security" charset="UTF-8"' \
        "8.13.4: the Basic challenge without a comma"
stop_fake

# A server that is not Elasticsearch.
start_fake --no-product-header --seed "$seed"
for p in / /_connector /_connector/nope; do
        fake_curl GET "$p"
        is "$(http_header X-elastic-product)" "" "--no-product-header: no product header on $p ($HTTP_STATUS)"
done
stop_fake

# HTTPS: a CA and a server certificate made here.
if ! command -v openssl >/dev/null; then
        skip_tls="openssl is not installed"
fi
if [ -z "${skip_tls:-}" ]; then
        d="$TEST_TMP/pki"
        mkdir -p "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fake test CA" \
                -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" \
                >/dev/null 2>&1
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$d/ext.cnf"
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
                -extfile "$d/ext.cnf" -out "$d/server.pem" >/dev/null 2>&1
        ok $? "a CA and a server certificate are made"

        start_fake --tls-cert "$d/server.pem" --tls-key "$d/server.key" --seed "$seed" --api-key "$key"
        case "$FAKE_URL" in https://*) ok 0 "FAKE_URL is https" ;; *) ok 1 "FAKE_URL is https ($FAKE_URL)" ;; esac
        fake_curl GET /_connector --cacert "$d/ca.pem" -H "Authorization: ApiKey $key"
        is "$HTTP_STATUS" 200 "HTTPS: curl --cacert with the CA succeeds"
        is "$(jq -r .count "$HTTP_BODY")" 4 "HTTPS: and gets the connectors"
        curl -s --max-time "$CURL_MAX_TIME" -o /dev/null "$FAKE_URL/"
        is "$?" 60 "HTTPS: without the CA the certificate is not trusted"
        curl -s --max-time "$CURL_MAX_TIME" -o /dev/null "http://127.0.0.1:$FAKE_PORT/"
        rc=$?
        [ "$rc" -ne 0 ]
        ok $? "HTTPS only: plain HTTP gets no answer (curl $rc)"
        stop_fake
        is "$?" 0 "HTTPS: SIGTERM stops it with exit status 0"
else
        skip_tls_n=6
        for i in $(seq 1 $skip_tls_n); do
                TAP_N=$((TAP_N + 1))
                echo "ok $TAP_N # SKIP $skip_tls"
        done
fi

tap_done

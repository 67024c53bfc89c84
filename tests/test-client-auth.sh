#!/bin/bash
# The cluster client's trust in the server and the server's in it: API key, basic and bearer
# authentication right and wrong (Elasticsearch's 401 quoted, never retried, no secret printed);
# TLS with a CA made here (the right CA passes, a wrong one fails before any request is served,
# plain HTTP to a TLS port fails); a server that is not Elasticsearch, or too old, refused after GET /.
. "$top_srcdir/tests/lib.sh"

TOOL="$top_builddir/tests/cluster-tool"
[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"
command -v openssl >/dev/null || skip_all "openssl is missing"

tool() {  # tool ARGS...: runs cluster-tool against the fake; output in $OUT and $ERR, status in $RC
        timeout 60 "$TOOL" --url "$FAKE_URL" --initial-delay-ms 10 "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
        RC=$?
        OUT="$TEST_TMP/out"
        ERR="$TEST_TMP/err"
}

secret_not_printed() {  # secret_not_printed SECRET DESCRIPTION
        ! grep -qF -- "$1" "$OUT" "$ERR"
        ok $? "$2: the secret appears in no output"
}

echo '{"connectors": [{"id": "c1", "index_name": "i"}]}' >"$TEST_TMP/seed.json"

# ---- API key
key="VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
printf '%s\n' "$key" >"$TEST_TMP/key"   # one trailing newline: not part of the key
printf '%s' "bm90LXRoZS1rZXk=" >"$TEST_TMP/wrong-key"
start_fake --seed "$TEST_TMP/seed.json" --api-key "$key"

tool --api-key-file "$TEST_TMP/key" list
is "$RC" 0 "the right API key lists"
is "$(fake_requests .auth | sort -u | tr -d '"')" ApiKey "every request carried an ApiKey authorization"
secret_not_printed "$key" "the right API key"

: >"$FAKE_LOG"
tool --api-key-file "$TEST_TMP/wrong-key" list
is "$RC" 1 "a wrong API key fails"
fake_curl GET / -H "Authorization: ApiKey bm90LXRoZS1rZXk="
reason=$(jq -r .error.reason "$HTTP_BODY")
grep -qF "GET /: 401 security_exception: $reason" "$ERR"
ok $? "the 401 is quoted: 'security_exception: $reason'"
is "$(fake_requests 'select(.path == "/") | .status' | head -n 1)" 401 "the fake answered 401"
is "$(fake_requests .seq | wc -l)" 2 "one request by the client (a 401 is not retried), one by the test"
! grep -q Retrying "$ERR"
ok $? "no retry is announced"
secret_not_printed "bm90LXRoZS1rZXk=" "a wrong API key"

: >"$FAKE_LOG"
tool list
is "$RC" 1 "no credentials fail"
grep -q "GET /: 401 security_exception" "$ERR"
ok $? "with the 401 quoted"
stop_fake

# ---- Basic
printf 'correct horse\n' >"$TEST_TMP/password"
printf 'wrong' >"$TEST_TMP/wrong-password"
start_fake --seed "$TEST_TMP/seed.json" --basic "elastic:correct horse"
tool --basic-user elastic --password-file "$TEST_TMP/password" get c1
is "$RC" 0 "the right user and password get a connector"
is "$(fake_requests .auth | sort -u | tr -d '"')" Basic "with Basic authorization"
secret_not_printed "correct horse" "the right password"
tool --basic-user elastic --password-file "$TEST_TMP/wrong-password" get c1
is "$RC" 1 "a wrong password fails"
grep -q "GET /: 401 security_exception: unable to authenticate user \[elastic\]" "$ERR"
ok $? "and Elasticsearch's words name the user"
stop_fake

# ---- Bearer
printf 'dGhlLXRva2Vu\n' >"$TEST_TMP/token"
printf 'b3RoZXI=' >"$TEST_TMP/wrong-token"
start_fake --seed "$TEST_TMP/seed.json" --bearer dGhlLXRva2Vu
tool --bearer-file "$TEST_TMP/token" info
is "$RC" 0 "the right bearer token works"
is "$(fake_requests .auth | sort -u | tr -d '"')" Bearer "with Bearer authorization"
tool --bearer-file "$TEST_TMP/wrong-token" info
is "$RC" 1 "a wrong bearer token fails"
grep -q "401 security_exception" "$ERR"
ok $? "with the 401 quoted"
secret_not_printed "dGhlLXRva2Vu" "the bearer token"
stop_fake

# ---- TLS: a CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA
tls="$TEST_TMP/tls"
mkdir -p "$tls"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 2 -subj "/CN=Test CA" 2>/dev/null &&
openssl req -x509 $ec -keyout "$tls/other.key" -out "$tls/other.pem" -days 2 -subj "/CN=Other CA" 2>/dev/null &&
openssl req $ec -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null &&
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tls/ext" &&
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -set_serial 1 -days 2 \
        -extfile "$tls/ext" -out "$tls/server.pem" 2>/dev/null
ok $? "a CA and a server certificate are made"

start_fake --seed "$TEST_TMP/seed.json" --tls-cert "$tls/server.pem" --tls-key "$tls/server.key"
case "$FAKE_URL" in https://*) ok 0 "the fake serves HTTPS";; *) ok 1 "the fake serves HTTPS";; esac

tool --ca-file "$tls/ca.pem" list
is "$RC" 0 "with the right CA the listing works"
is "$(fake_requests .seq | wc -l)" 2 "GET / and one page were served"

: >"$FAKE_LOG"
tool --ca-file "$tls/other.pem" list
is "$RC" 1 "with a wrong CA the client refuses"
grep -qi "certificate" "$ERR"
ok $? "and says the certificate failed ($(head -c 200 "$ERR"))"
! grep -q Retrying "$ERR"
ok $? "a failed verification is not retried"
is "$(wc -l <"$FAKE_LOG")" 0 "no request reached the fake"

tool --insecure list
is "$RC" 0 "--insecure (verify_tls: false) works without the CA"

: >"$FAKE_LOG"
timeout 60 "$TOOL" --url "http://127.0.0.1:$FAKE_PORT" --max-attempts 1 list >"$TEST_TMP/out" 2>"$TEST_TMP/err"
is "$?" 1 "plain HTTP to the TLS port fails"
is "$(wc -l <"$FAKE_LOG")" 0 "and nothing was served in clear"
stop_fake

# ---- Not Elasticsearch, or too old: refused after GET /, nothing more sent
start_fake --seed "$TEST_TMP/seed.json" --no-product-header
tool list
is "$RC" 1 "a server without X-elastic-product is refused"
grep -qF "Server at $FAKE_URL is not Elasticsearch: 200 from a server that is not Elasticsearch (no X-elastic-product header)" "$ERR"
ok $? "with a clear message"
is "$(fake_requests '[.method, .path] | join(" ")' | tr -d '"' | tr '\n' ',')" "GET /," "and no further request"
stop_fake

start_fake --seed "$TEST_TMP/seed.json" --version 8.11.1
tool --hard delete c1
is "$RC" 1 "Elasticsearch 8.11.1 is refused"
grep -qF "Elasticsearch 8.11.1 is too old: the connector API needs 8.12 or later" "$ERR"
ok $? "with a clear message"
is "$(fake_requests '[.method, .path] | join(" ")' | tr -d '"' | tr '\n' ',')" "GET /," "and no further request"
stop_fake

start_fake --seed "$TEST_TMP/seed.json" --version 8.12.2
tool list
is "$RC" 0 "Elasticsearch 8.12.2 is accepted"
stop_fake

tap_done

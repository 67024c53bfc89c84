#!/bin/bash
# The errors the config causes and fixes point at the config: a refused credential (401) names
# the key in use and where it is written, a credential without the privileges (403) names them,
# and a certificate that did not verify names cluster.ca_file and cluster.verify_tls.
. "$top_srcdir/tests/lib.sh"

[ -x "$FAKE_CLUSTER" ] || skip_all "fake-cluster is not built"
command -v jq >/dev/null || skip_all "jq is missing"

write_seed "$TEST_TMP/seed.json" "team-keep i-keep jira" "team-old i-old jira"
write_set "$M/team.yaml" team team- team-keep
good=$(printf 'good-id:good-secret' | base64)
bad=$(printf 'good-id:wrong-secret' | base64)
printf '%s\n' "$bad" >"$TEST_TMP/key" && chmod 600 "$TEST_TMP/key"
printf 'wrong\n' >"$TEST_TMP/password" && chmod 600 "$TEST_TMP/password"

# with_cluster_lines LINE...: write_config, the lines put under "cluster:" (line 2 on).
with_cluster_lines() {
        write_config "$CFG"
        for _l in "$@"; do
                sed -i "0,/^cluster:\$/s||cluster:\n  $_l|" "$CFG"
        done
}

# ---- 401: a wrong API key: cluster.api_key_file, at its line.
start_fake --seed "$TEST_TMP/seed.json" --api-key "$good"
with_cluster_lines "api_key_file: $TEST_TMP/key"
reconcile -c "$CFG" once
is "$RC" 1 "a refused API key: once exits 1"
grep -q "Failed to list the connectors of $FAKE_URL, deleting nothing: .*; the cluster refused the credential: check cluster.api_key_file in $CFG:2\$" "$ERR"
ok $? "401: the error says to check cluster.api_key_file in $CFG:2"
reconcile -c "$CFG" plan
is "$RC" 1 "a refused API key: plan exits 1"
grep -q "check cluster.api_key_file in $CFG:2\$" "$ERR"; ok $? "401: plan says the same"
is "$(deleted_ids)" "" "nothing was deleted"

# ---- 401: a wrong password: cluster.username and cluster.password_file.
start_fake --seed "$TEST_TMP/seed.json" --basic "admin:right"
with_cluster_lines "password_file: $TEST_TMP/password" "username: admin"
reconcile -c "$CFG" once
is "$RC" 1 "a refused password: once exits 1"
grep -q "; the cluster refused the user: check cluster.username and cluster.password_file in $CFG:3\$" "$ERR"
ok $? "401: the error names cluster.username and cluster.password_file, at the password file's line"

# ---- 401 with no credential configured: which keys to set.
start_fake --seed "$TEST_TMP/seed.json" --api-key "$good"
write_config "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "no credential for a secured cluster: once exits 1"
grep -q "; the cluster wants credentials and none are configured: set cluster.api_key_file (or cluster.username and cluster.password_file) in $CFG\$" "$ERR"
ok $? "401: the error says which keys to set"

# ---- 403 on the listing: the privileges it needs.
echo '{"faults": [{"method": "GET", "path": "/_connector", "status": 403, "type": "security_exception",
  "reason": "action [cluster:admin/xpack/connector/list] is unauthorized for API key id [good-id]"}]}' \
        >"$TEST_TMP/faults.json"
printf '%s\n' "$good" >"$TEST_TMP/key"
start_fake --seed "$TEST_TMP/seed.json" --api-key "$good" --faults "$TEST_TMP/faults.json"
with_cluster_lines "api_key_file: $TEST_TMP/key"
reconcile -c "$CFG" once
is "$RC" 1 "a listing refused for privileges: once exits 1"
grep -q "is unauthorized for API key id \[good-id\]; the credential in cluster.api_key_file lacks a privilege: listing needs monitor and monitor_connector, deleting manage_connector (see PRIVILEGES in connector-reconciler(8))\$" "$ERR"
ok $? "403: the error names the privileges and where they are documented"

# ---- TLS: a certificate signed by a CA the config does not name.
if command -v openssl >/dev/null; then
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
        write_config "$CFG"
        reconcile -c "$CFG" once
        is "$RC" 1 "TLS without cluster.ca_file: once exits 1"
        grep -q "; the cluster's certificate did not verify against the system's CAs: set cluster.ca_file in $CFG to the CA that signed it (or, not advised, cluster.verify_tls: false)\$" "$ERR"
        ok $? "TLS: the error says to set cluster.ca_file (or cluster.verify_tls)"

        with_cluster_lines "ca_file: $tls/other.pem"
        reconcile -c "$CFG" once
        is "$RC" 1 "TLS with another CA in cluster.ca_file: once exits 1"
        grep -q "; the cluster's certificate did not verify against cluster.ca_file '$tls/other.pem' ($CFG:2): check that it holds the CA that signed it, or cluster.verify_tls\$" "$ERR"
        ok $? "TLS: the error names cluster.ca_file, its path and line"

        with_cluster_lines "ca_file: $tls/ca.pem"
        reconcile -c "$CFG" once
        is "$RC" 0 "TLS with the right CA: once deletes the orphan"
        grep -q "cluster.ca_file" "$ERR"; ok $((!$?)) "and says nothing of cluster.ca_file"
else
        echo "ok $((TAP_N + 1)) # SKIP openssl is missing"
        TAP_N=$((TAP_N + 1))
fi

tap_done

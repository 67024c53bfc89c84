#!/bin/bash
# TLS fails closed. With a CA and certificates made here, against the fake serving HTTPS:
# verification is on by default and uses the system's CAs; a server certificate from another CA,
# or for another host name, stops the cycle before any request is served (the fake's log stays
# empty), exit 1, with a message naming the certificate problem; plain HTTP to the TLS port gets
# nothing served either; `verify_tls: false` works and logs a warning every cycle.
. "$top_srcdir/tests/hygiene/common.sh"

command -v openssl >/dev/null || skip_all "openssl is missing"
command -v jq >/dev/null || skip_all "jq is missing"

# ---- A CA, a server certificate for 127.0.0.1 and localhost, one for another name, another CA.
tls="$TEST_TMP/tls"
mkdir -p "$tls"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
cert() {  # cert NAME SUBJECT-ALT-NAMES: a server certificate signed by the test CA
        openssl req $ec -keyout "$tls/$1.key" -out "$tls/$1.csr" -subj "/CN=$1" 2>/dev/null &&
                printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" \
                        >"$tls/$1.ext" &&
                openssl x509 -req -in "$tls/$1.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -set_serial "$3" \
                        -days 2 -extfile "$tls/$1.ext" -out "$tls/$1.pem" 2>/dev/null
}
openssl req -x509 $ec -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 2 -subj "/CN=Hygiene Test CA" 2>/dev/null &&
        openssl req -x509 $ec -keyout "$tls/other.key" -out "$tls/other.pem" -days 2 -subj "/CN=Other CA" \
                2>/dev/null &&
        cert server "IP:127.0.0.1,DNS:localhost" 1 &&
        cert wrong-name "DNS:wrong.example,IP:127.0.0.2" 2
ok $? "a CA, another CA and two server certificates are made"

seed_team_a "$TEST_TMP/seed.json"
team_a_manifest

# tls_config [CA-FILE] [EXTRA-LINE...]: the config, with cluster.ca_file when CA-FILE is not "-".
tls_config() {
        _ca=${1:--}
        shift
        write_config "$CFG" "$@"
        [ "$_ca" = - ] || sed -i "s|^  url: .*|&\n  ca_file: $_ca|" "$CFG"
}
served() {  # the requests the fake has served (its log's lines)
        wc -l <"$FAKE_LOG"
}

# ---- The right CA: the baseline that the failures below are measured against.
start_fake --seed "$TEST_TMP/seed.json" --tls-cert "$tls/server.pem" --tls-key "$tls/server.key"
case "$FAKE_URL" in https://*) ok 0 "the fake serves HTTPS" ;; *) ok 1 "the fake serves HTTPS" ;; esac
tls_config "$tls/ca.pem"
reconcile -c "$CFG" --dry-run once
is "$RC" 0 "with the right CA in cluster.ca_file the cycle runs"
[ "$(served)" -gt 0 ]; ok $? "and the fake served its requests"
! grep -q "verification is disabled" "$ERR"; ok $? "and no warning about verification"

# ---- Verification is on by default: no ca_file means the system's CAs, which do not know ours.
before=$(served)
tls_config -
reconcile -c "$CFG" once
is "$RC" 1 "without ca_file a certificate from an unknown CA fails the cycle: exit 1"
grep -q "SSL certificate problem: unable to get local issuer certificate" "$ERR"
ok $? "the message names the certificate problem ($(grep -m1 -o 'SSL[^:]*: [^:]*$' "$ERR"))"
is "$(served)" "$before" "no request was served (verification failed before any was sent)"

# ---- Another CA in ca_file.
tls_config "$tls/other.pem"
reconcile -c "$CFG" once
is "$RC" 1 "a certificate from another CA than ca_file: exit 1"
grep -q "SSL certificate problem: unable to get local issuer certificate" "$ERR"
ok $? "the message names the certificate problem"
is "$(served)" "$before" "no request was served"
grep -q "deleting nothing" "$ERR"; ok $? "and the log says nothing was deleted"
is "$(grep -c "Retrying\|retrying" "$ERR")" 0 "a failed verification is not retried"

# ---- Plain HTTP to the TLS port: nothing served in clear.
sed -i "s|^  url: https://|  url: http://|" "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "plain HTTP to the TLS port: exit 1"
is "$(served)" "$before" "nothing was served in clear"

# ---- verify_tls: false works with an unknown CA and warns every cycle.
tls_config -
sed -i 's|^  url: .*|&\n  verify_tls: false|' "$CFG"
reconcile -c "$CFG" --dry-run once
is "$RC" 0 "verify_tls: false accepts the unknown CA"
is "$(grep -c "TLS certificate verification is disabled" "$ERR")" 1 "once: one warning for the one cycle"
tls_config - "interval: 1s" "jitter: 0%"
sed -i 's|^  url: .*|&\n  verify_tls: false|' "$CFG"
"$RECONCILER" --log-target console -c "$CFG" --dry-run run 2>"$TEST_TMP/run.err" &
daemon=$!
TEST_PIDS="$TEST_PIDS $daemon"
wait_alive "$daemon" 30 has_lines 3 'Cycle ended' "$TEST_TMP/run.err"
ok $? "run with verify_tls: false: three cycles"
stop_pid "$daemon" 10 "run with verify_tls: false, on SIGTERM"
# Every cycle that ended warned once; SIGTERM may have stopped one between its start and its warning.
started=$(grep -c "Cycle started" "$TEST_TMP/run.err")
ended=$(grep -c "Cycle ended" "$TEST_TMP/run.err")
warned=$(grep -c "TLS certificate verification is disabled" "$TEST_TMP/run.err")
[ "$warned" -ge "$ended" ] && [ "$warned" -le "$started" ]
ok $? "run: the warning comes once every cycle ($warned warnings, $ended cycles ended, $started started)"
grep "TLS certificate verification is disabled" "$TEST_TMP/run.err" | head -n 1 | grep -q "verify_tls"
ok $? "the warning names the setting"
stop_fake

# ---- A certificate for another host name, from the right CA.
start_fake --seed "$TEST_TMP/seed.json" --tls-cert "$tls/wrong-name.pem" --tls-key "$tls/wrong-name.key"
tls_config "$tls/ca.pem"
reconcile -c "$CFG" once
is "$RC" 1 "a certificate for another host name: exit 1"
grep -q "no alternative certificate subject name matches target host name '127.0.0.1'" "$ERR"
ok $? "the message names the host name mismatch"
is "$(served)" 0 "no request was served"
sed -i "s|^  url: https://127.0.0.1:|  url: https://localhost:|" "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "by name (localhost) as well: exit 1"
grep -q "target host name 'localhost'" "$ERR"; ok $? "the message names the host"
is "$(served)" 0 "still no request was served"
stop_fake

# ---- The system's CAs are the default: with our CA as the system bundle (in a private mount
# namespace, so nothing outside changes) and no ca_file, the cycle runs.
bundle=$(curl-config --ca 2>/dev/null)
if [ -z "$bundle" ] || [ ! -f "$bundle" ]; then
        skip_n=1
elif ! unshare -m --propagation private true 2>/dev/null; then
        skip_n=2
else
        skip_n=0
fi
if [ "$skip_n" -eq 0 ]; then
        start_fake --seed "$TEST_TMP/seed.json" --tls-cert "$tls/server.pem" --tls-key "$tls/server.key"
        tls_config -
        unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
                "$tls/ca.pem" "$bundle" timeout -k 5 60 "$RECONCILER" --log-target console -c "$CFG" \
                --dry-run once >"$TEST_TMP/sys.out" 2>"$TEST_TMP/sys.err"
        is "$?" 0 "with our CA as the system bundle ('$bundle') and no ca_file, the cycle runs"
        [ "$(served)" -gt 0 ]; ok $? "and the fake served it"
        stop_fake
else
        reason="libcurl's CA bundle is unknown (curl-config --ca)"
        [ "$skip_n" -eq 2 ] && reason="no private mount namespace here (unshare -m)"
        for _ in 1 2; do
                TAP_N=$((TAP_N + 1))
                echo "ok $TAP_N # SKIP $reason"
        done
fi

tap_done

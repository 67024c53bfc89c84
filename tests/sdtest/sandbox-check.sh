#!/bin/bash
# Runs as the shipped units' service, inside their sandbox (tests/test-systemd-real.sh), and says
# on stdout, one line each, whether what the daemon needs works there and whether what the
# sandbox takes away is gone: "sandbox-ok NAME" or "sandbox-fail NAME". Its environment names
# what to expect (the last line, "sandbox-done", says that it ran to the end):
#   EXPECTED_API_KEY_SHA256
#                      the SHA-256 of /etc/connector-reconciler/api-key, without its newline
#                      (the key itself stays out of the unit, and so out of the journal)
#   GITOPS             a manifest folder bound read-only into the sandbox by a drop-in
#   CLUSTER_PORT       a loopback port where the fake cluster listens, accepting the api-key
#                      credential (optional)

check() {  # NAME COMMAND...
        local name=$1
        shift
        if "$@" >/dev/null 2>&1; then
                echo "sandbox-ok $name"
        else
                echo "sandbox-fail $name"
        fi
}

fails() {
        ! "$@"
}

cluster_answers() {  # GET / with the credential, over bash's /dev/tcp: 200 from Elasticsearch
        local reply
        exec 3<>"/dev/tcp/127.0.0.1/$CLUSTER_PORT" || return 1
        printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ApiKey %s\r\nConnection: close\r\n\r\n' \
                "$(cat "$CREDENTIALS_DIRECTORY/api-key")" >&3
        reply=$(timeout 5 cat <&3 | tr -d '\r')
        exec 3<&-
        printf '%s\n' "$reply" | head -n 1 | grep -q '^HTTP/1\.[01] 200 ' &&
                printf '%s\n' "$reply" | grep -qi '^x-elastic-product: *Elasticsearch$'
}

check runs-as-a-dynamic-user test "$(id -u)" -ge 61184 -a "$(id -u)" -le 65519
check has-no-capabilities grep -Eq '^CapEff:[[:space:]]*0+$' /proc/self/status
check credential-is-the-key test "$(printf '%s' "$(cat "$CREDENTIALS_DIRECTORY/api-key")" | sha256sum | cut -d' ' -f1)" = \
        "$EXPECTED_API_KEY_SHA256"
check config-readable cat /etc/connector-reconciler/config.yaml
# A dot name, which the daemon's backups never have; removed again.
check backup-dir-writable touch /var/lib/connector-reconciler/deleted/.sandbox-check
check backup-dir-mode-0700 test "$(stat -c %a /var/lib/connector-reconciler/deleted)" = 700
check new-files-mode-0600 test "$(stat -c %a /var/lib/connector-reconciler/deleted/.sandbox-check)" = 600
rm -f /var/lib/connector-reconciler/deleted/.sandbox-check
check home-hidden fails ls /home
check manifests-readable-through-drop-in test -r "$GITOPS/connectors.yaml"
check private-tmp-writable touch /tmp/sandbox-check
if [ -n "${CLUSTER_PORT:-}" ]; then
        check cluster-reachable-with-the-credential cluster_answers
fi
echo sandbox-done

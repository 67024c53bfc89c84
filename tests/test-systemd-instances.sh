#!/bin/bash
# Two clusters from one host: connector-reconciler@east.service and connector-reconciler@west.service,
# the shipped template units under the real systemd (tests/sdtest/sdtest.sh), each against a fake
# cluster of its own that takes only its own API key, run at once:
#   - each reads its own config (/etc/connector-reconciler/NAME.yaml) and credential
#     (NAME.api-key), deletes its own cluster's orphan and nothing in the other cluster;
#   - each keeps its state and backups in /var/lib/connector-reconciler/NAME/, unseen by the other;
#   - its journal entries carry INSTANCE=NAME, its STATUS= starts with "NAME: ", and its metrics
#     file labels every sample instance="NAME";
#   - the host is left as found.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/sdtest/sdtest.sh"

reason=$(sdtest_check) || skip_all "$reason"
for c in jq curl; do
        command -v "$c" >/dev/null || skip_all "needs $c"
done

FAKE="$top_builddir/tests/fake/fake-cluster"
[ -x "$FAKE" ] || bail_out "$FAKE is not built"
MESSAGE_DELETED=c6b2413224484588842a0df7a2c25e5e # daemon/messages.h, as alerting matches it
declare -A KEY=([east]=ZWFzdDplYXN0LXNlY3JldA== [west]=d2VzdDp3ZXN0LXNlY3JldA==)
declare -A PORT=([east]=9200 [west]=9201)

host_before=$(sdtest_host_state)
sdtest_init
for u in connector-reconciler@.service; do
        sdtest_install_unit "$top_builddir/systemd/$u"
done
sdtest_install_bin "$top_builddir/connector-reconciler" "$FAKE" || bail_out "cannot install the programs"
# The shipped command line, with the program where the namespace has it.
sdtest_install_dropin connector-reconciler@.service 60-subject <<EOF
[Service]
ExecStart=
ExecStart=$SDTEST_IN/bin/connector-reconciler -c /etc/connector-reconciler/%i.yaml --instance %i run
EOF

# Each cluster: its own connectors (one declared, one orphan of each instance's set), its own key.
for n in east west; do
        write_seed "$SDTEST_WORK/seed-$n.json" "$n-keep search-$n-keep jira" "$n-orphan search-$n-orphan jira"
        cat >"$SDTEST_WORK/units/fake-$n.service" <<EOF
[Unit]
Description=Fake Elasticsearch cluster $n (test equipment)

[Service]
ExecStart=$SDTEST_IN/bin/fake-cluster --port ${PORT[$n]} --port-file $SDTEST_IN/out/fake-$n.port --seed $SDTEST_IN/seed-$n.json --log $SDTEST_IN/out/fake-$n.log --api-key ${KEY[$n]}
EOF
        # One set for both instances' manifests: it owns every connector, so that an instance that
        # reached the other's cluster would find orphans there.
        printf '%s\n' "${KEY[$n]}" | sdtest_install_etc "connector-reconciler/$n.api-key" 0600
        sdtest_install_etc "connector-reconciler/$n/connectors.yaml" <<EOF
apiVersion: connector-reconciler/v1
kind: ConnectorSet
metadata:
  name: all
spec:
  connectors:
    - id: $n-keep
EOF
        sdtest_install_etc "connector-reconciler/$n.yaml" <<EOF
cluster:
  url: http://127.0.0.1:${PORT[$n]}
  api_key_file: api-key
manifests: /etc/connector-reconciler/$n
metrics:
  textfile: /var/lib/connector-reconciler/$n/metrics.prom
EOF
done

sdtest_boot
ok $? "systemd boots as PID 1 of private namespaces"
if [ -z "$SDTEST_PID1" ]; then
        tap_done
        exit
fi
for n in east west; do
        sdtest_systemctl start "fake-$n.service" && wait_for 10 test -s "$SDTEST_WORK/out/fake-$n.port"
        ok $? "the fake cluster $n listens on ${PORT[$n]}"
done

sdtest_systemctl start connector-reconciler@east.service connector-reconciler@west.service
ok $? "systemctl start of both instances returns once both are ready"
status_is() {  # UNIT REGEX: its StatusText matches
        printf '%s\n' "$(sdtest_prop "$1" StatusText)" | grep -Eq "$2"
}
for n in east west; do
        wait_alive "$SDTEST_PID1" 20 status_is "connector-reconciler@$n.service" \
                "^$n: Cycle 1: deleted 1, already gone 0, failed 0, kept 1, "
        ok $? "$n: STATUS= names the instance and its first cycle ($(sdtest_prop "connector-reconciler@$n.service" StatusText))"
done

for n in east west; do
        log="$SDTEST_WORK/out/fake-$n.log"
        is "$(jq -r 'select(.control | not) | select(.method == "DELETE") | .connector_id' "$log" | tr '\n' ' ')" \
                "$n-orphan " "$n: its cluster got one DELETE, for its own orphan"
        is "$(jq -r 'select(.control | not) | .auth' "$log" | sort -u)" ApiKey \
                "$n: every request to its cluster carried an API key, which the fake takes only if it is $n's"
        is "$(jq -r 'select(.control | not) | select(.status == 401) | .path' "$log" | head -n 3)" "" \
                "$n: no request to its cluster was refused (no other instance's key reached it)"
done

for n in east west; do
        other=$([ $n = east ] && echo west || echo east)
        listing=$(sdtest_run sh -c 'ls "$1"' sh "/var/lib/connector-reconciler/$n/deleted" | tr '\n' ' ')
        case $listing in
        "$n-orphan."*".json ") ok 0 "$n: its backup folder holds its orphan's backup, and only it" ;;
        *) ok 1 "$n: its backup folder holds its orphan's backup, and only it (got '$listing')" ;;
        esac
        sdtest_run test -s "/var/lib/connector-reconciler/$n/state.json"
        ok $? "$n: its state is in /var/lib/connector-reconciler/$n"
        # As the running daemon sees the file system (its mount namespace, through /proc/PID/root):
        # its own state, not the other instance's.
        pid=$(sdtest_prop "connector-reconciler@$n.service" MainPID)
        sdtest_run test -e "/proc/$pid/root/var/lib/connector-reconciler/$n/state.json"
        sees_own=$?
        sdtest_run test -e "/proc/$pid/root/var/lib/connector-reconciler/$other/state.json"
        is "$sees_own/$?" 0/1 "$n: its daemon sees its own state directory, not $other's"
        prom=$(sdtest_run cat "/var/lib/connector-reconciler/$n/metrics.prom")
        printf '%s\n' "$prom" | grep -v '^#' | grep -qv "{instance=\"$n\""
        is "$?/$(printf '%s\n' "$prom" | grep -c "^connector_reconciler_actions_total{instance=\"$n\",action=\"delete\",result=\"ok\"} 1$")" \
                1/1 "$n: its metrics file labels every sample instance=\"$n\""
done

for n in east west; do
        sdtest_wait_journal 5 MESSAGE_ID="$MESSAGE_DELETED" CONNECTOR_ID="$n-orphan"
        entry=$(sdtest_journal -o json MESSAGE_ID="$MESSAGE_DELETED" CONNECTOR_ID="$n-orphan" | head -n 1)
        is "$(printf '%s' "$entry" | jq -r '"\(.INSTANCE) \(._SYSTEMD_UNIT)"')" "$n connector-reconciler@$n.service" \
                "$n: its deletion event carries INSTANCE=$n, from its own unit"
done
is "$(sdtest_journal -o json _SYSTEMD_UNIT=connector-reconciler@east.service | jq -r '.INSTANCE // "none"' | sort -u)" \
        east "east: every journal entry of its daemon carries INSTANCE=east"

sdtest_systemctl stop connector-reconciler@east.service connector-reconciler@west.service
ok $? "both instances stop"
for n in east west; do
        is "$(sdtest_prop "connector-reconciler@$n.service" Result)/$(sdtest_prop "connector-reconciler@$n.service" ExecMainStatus)" \
                success/0 "$n: stopped cleanly with status 0"
done

sdtest_teardown
ok $? "the namespace powers off and its cgroup is removed"
is "$(sdtest_host_state)" "$host_before" "the host's sysctls, hostname, /run, /dev and /etc are unchanged"
tap_done

#!/bin/bash
# A real `git pull` races the daemon (adversarial audit, finding 3). A publisher clone of a local
# bare repository commits and pushes as fast as it can (100-300 ms a commit on an idle machine):
# each commit moves one to four always-declared connectors (team-keep-*) between six sets whose
# selectors overlap (each owns id_prefix team-), now and then deletes, brings back or renames a
# set's file, and declares every team-keep-* id in some file. Meanwhile the host checkout that the
# daemon's manifests key names is updated in a loop (`git pull --ff-only`, or `git fetch` then
# `git merge --ff-only` the moment the daemon logs that a cycle starts), and the daemon (`run`,
# interval 100ms, against a cluster that answers slowly) reads the work tree while git rewrites it
# file by file: in a state in between, a moved connector is declared by no file and is an orphan
# of the overlapping sets. 300 files of 20 KB sort between the first and the last set files
# (a*.yaml, filler/, sub/, z*.yaml), so that a read of the tree lasts long enough for a checkout
# to land in it. Real orphans (team-orphan-*), created every second, keep the daemon deleting.
# Asserts: no always-declared connector, nor any unmanaged one, ever gets a DELETE; every commit
# is valid and declares all of them; no cycle that read a state in between deleted anything; the
# scenario happened (commits pulled, cycles, cycles the guard stopped, orphans deleted
# meanwhile); once the publisher stops, the orphans go; the daemon stops cleanly; every backup is
# valid. Then the guard without Git: a plain folder whose two files are edited in place, the one
# losing the connectors first, while `once` runs again and again.
. "$top_srcdir/tests/chaos/chaos-lib.sh"
. "$top_srcdir/tests/chaos/git-race.sh" # the repositories, the publisher, the loops, the checks

RACE=${CHAOS_GIT_SECONDS:-18} # how long the publisher and the puller race the daemon
E="$TEST_TMP/run.err"         # the daemon's log
BAD_COMMITS="$TEST_TMP/bad-commits"

race_fake
# write_config names $TEST_TMP/manifests; the daemon reads the host checkout instead.
write_config "$CFG" "interval: 100ms" "jitter: 0%" "safety:" "  max_deletions: unlimited"
sed -i "s|^manifests: .*|manifests: $HOST|" "$CFG"

# ---- The repositories: bare origin, publisher, host.
race_origin || { diag "the first commit failed: $(cat "$TEST_TMP/push.err")"; exit 1; }
race_clone_host || exit 1

# ---- Part 1: the race.
diag "$N_FILLER fillers, $N_SLOTS sets of always-declared connectors, repositories set up in $(chaos_elapsed "$T0") s"
race_run 42 team-orphan- pull
kill -0 "$DAEMON" 2>/dev/null
ok $? "the daemon is still running after ${RACE} s of pulls"
race_stop ""

# ---- Things settle: the last commit pulled, the orphans go.
T1=$(date +%s.%N)
g -C "$HOST" pull -q --ff-only 2>>"$TEST_TMP/pull.err"
is "$(g -C "$HOST" rev-parse HEAD)" "$(g -C "$PUB" rev-parse HEAD)" "the host checks out the last commit"
check_tree "the last commit, whole" "$HOST" "$TOTAL"
wait_for 20 race_settled '^Cycle ended: deleted 0, already gone 0, failed 0,'
ok $? "once the publisher stops, the orphans go and a cycle ends with nothing to delete"
stop_pid "$DAEMON" 10 "the daemon, on SIGTERM"
is "$?" 0 "the daemon stops cleanly on SIGTERM, within 10 s"
diag "settled and stopped in $(chaos_elapsed "$T1") s"

# ---- What happened.
commits=$(cat "$TEST_TMP/commits")
read -r pulls pull_failures pulls_timed <"$TEST_TMP/pulls"
moved=$(g -C "$HOST" reflog show HEAD | grep -c ': pull\|: merge')
cycles=$(grep -c '^Cycle ended' "$E")
busy_start=$(grep -c '^Not reading the manifests now: a Git operation is in progress' "$E")
busy_gate=$(grep -cE '^(Deleting nothing|Stopped deleting): a Git operation is in progress' "$E")
changed_gate=$(grep -cE '^(Deleting nothing|Stopped deleting): the manifests .* changed since this cycle read them' "$E")
halted=$(grep -c '^Stopped deleting: ' "$E")
invalid=$(grep -c '^Cycle ended: manifests invalid' "$E")
blocked=$(grep -c '^Safety stop' "$E")
race_cycles=$(head -n "$RACE_LINES" "$E" | grep -c '^Cycle ended')
# Per cycle (they never overlap): a read that declares fewer than every commit does is a state in
# between; how did such a cycle end, and did it delete anything?
awk -v t="$TOTAL" '
        /^Cycle started/ { torn = 0; deleted = 0; how = "ended" }
        /^Read [0-9]+ sets declaring [0-9]+ connectors/ { if ($5 < t) torn = 1 }
        /^Deleted connector / { deleted++ }
        /^Safety stop/ { how = "safety stop" }
        /^(Deleting nothing|Stopped deleting): a Git operation/ { how = "stopped: Git operation" }
        /^(Deleting nothing|Stopped deleting): the manifests .* changed since/ { how = "stopped: manifests changed" }
        /^Cycle ended/ {
                if (torn)
                        print (deleted ? "DELETED " deleted ": " $0 : how)
        }
' "$E" >"$TEST_TMP/torn"
torn=$(wc -l <"$TEST_TMP/torn")
diag "$commits commits pushed; $pulls updates of the host ($pull_failures failed, $pulls_timed timed on" \
        "a cycle's start), $moved moved HEAD;" \
        "$(cat "$TEST_TMP/orphan-rounds") rounds of 3 orphans"
diag "$cycles cycles ($race_cycles during the race): $busy_start did not read the manifests (a Git" \
        "operation in progress); of those that did, $busy_gate deleted nothing more because of a Git operation" \
        "and $changed_gate because the manifests changed ($halted of these after reading documents)," \
        "$invalid read invalid manifests, $blocked made a safety stop"
diag "reads of a state in between that declared fewer than $TOTAL: $torn" \
        "($(sort "$TEST_TMP/torn" | uniq -c | awk '{ c = $1; sub(/^ *[0-9]+ /, ""); printf "%s%s: %s", (NR > 1 ? ", " : ""), $0, c }'));" \
        "$RACE_DELETED orphans deleted during the race, $(deleted_ids | grep -c '^team-orphan-') in all"

race_check_deletes ""

grep '^DELETED' "$TEST_TMP/torn" >"$TEST_TMP/torn-deleted"
chaos_diag_file "$TEST_TMP/torn-deleted" 3
is "$(wc -l <"$TEST_TMP/torn-deleted")" 0 "no cycle that read a state in between deleted anything"

# Bounds that hold on a loaded machine (measured under a load of 9 on 2 CPUs: 24 commits, 18
# fast-forwards, 21 cycles in 20 s).
# Lower bounds low enough for a loaded machine or a sanitizer build (which runs several times
# slower); the counts are in the diag lines above.
[ "$commits" -ge 4 ]; ok $? "the publisher pushed 4 commits or more ($commits)"
[ "$moved" -ge 3 ]; ok $? "the host pulled 3 times or more a new commit ($moved fast-forwards)"
[ "$race_cycles" -ge 4 ]; ok $? "the daemon ran 4 cycles or more meanwhile ($race_cycles)"
[ $((busy_start + busy_gate + changed_gate)) -ge 1 ]
ok $? "the guard stopped some cycles ($((busy_start + busy_gate + changed_gate)))"
[ "$RACE_DELETED" -ge 1 ]; ok $? "and let others delete real orphans meanwhile ($RACE_DELETED)"

race_check_cluster ""
diag "part 1: $(chaos_elapsed "$T0") s"

# ---- Part 2: a plain folder (no Git), two files edited in place (truncated and written again,
# as an editor saves them), the one that loses the connectors first: for 50 ms in between, the
# always-declared connectors are declared nowhere. `once` runs again and again meanwhile; the
# document GETs are slow (300 ms), so that a cycle's read and its first DELETE lie far apart from
# the time a state in between lasts.
P="$TEST_TMP/plain"
mkdir -p "$P"
rm -rf "$TEST_TMP/state"
fake_control POST /_fake/faults \
        '{"faults":[{"method":"GET","path":"/_connector/*","delay_ms":300}]}' >/dev/null
# plain_file SET DECLARES: a set owning team-*, declaring every team-keep-* (yes) or nothing (no),
# on standard output.
plain_file() {
        printf 'apiVersion: connector-reconciler/v1\nkind: ConnectorSet\n'
        printf 'metadata:\n  name: %s\n' "$1"
        printf 'spec:\n  selector:\n    id_prefix: team-\n  prune:\n    allow_empty: true\n'
        if [ "$2" = yes ]; then
                printf '  connectors:\n'
                chaos_ids team-keep- 0 "$N_KEEP" | sed 's/^/    - id: /'
        else
                printf '  connectors: []\n'
        fi
}
A_YES=$(plain_file plain-a yes)
A_NO=$(plain_file plain-a no)
Z_YES=$(plain_file plain-z yes)
Z_NO=$(plain_file plain-z no)
printf '# revision 0\n%s\n' "$A_YES" >"$P/a.yaml"
printf '# revision 0\n%s\n' "$Z_NO" >"$P/z.yaml"
# edit: until $STOP exists (at most 30 s), moves the always-declared connectors from a.yaml to
# z.yaml and back, each file rewritten in place (truncated, same inode), the losing one first,
# 50 ms before the other; 10 ms later the next move. A revision comment keeps every state new.
edit() {
        local n=1 end=$(($(now) + 30))
        while [ ! -e "$STOP" ] && [ "$(now)" -lt "$end" ]; do
                if [ $((n % 2)) -eq 1 ]; then
                        printf '# revision %s\n%s\n' "$n" "$A_NO" >"$P/a.yaml"
                        sleep 0.05
                        printf '# revision %s\n%s\n' "$n" "$Z_YES" >"$P/z.yaml"
                else
                        printf '# revision %s\n%s\n' "$n" "$Z_NO" >"$P/z.yaml"
                        sleep 0.05
                        printf '# revision %s\n%s\n' "$n" "$A_YES" >"$P/a.yaml"
                fi
                n=$((n + 1))
                sleep 0.01
        done
        echo $((n - 1)) >"$TEST_TMP/edits"
}
write_config "$CFG" "interval: 1s" "safety:" "  max_deletions: unlimited"
sed -i "s|^manifests: .*|manifests: $P|" "$CFG"
rm -f "$STOP"
edit &
EDIT=$!
TEST_PIDS="$TEST_PIDS $EDIT"
rcs=""
: >"$TEST_TMP/plain.err"
for i in $(seq 8); do
        fake_control POST /_fake/connectors \
                "{\"connectors\":[$(chaos_connectors "team-orphan-p$(printf %02d "$i")-" 0 2)]}" >/dev/null
        reconcile -v -c "$CFG" once
        rcs="$rcs $RC"
        { echo "== once $i: exit $RC"; cat "$ERR"; } >>"$TEST_TMP/plain.err"
done
touch "$STOP"
wait_exit "$EDIT" 60 "the edit loop, once told to stop"
E2="$TEST_TMP/plain.err"
changed2=$(grep -cE '^(Deleting nothing|Stopped deleting): the manifests .* changed since this cycle read them' "$E2")
torn2=$(grep -E '^Read [0-9]+ sets declaring [0-9]+ connectors' "$E2" | awk -v t="$N_KEEP" '$5 < t' | wc -l)
diag "8 once runs while the files were edited $(cat "$TEST_TMP/edits") times; exit statuses:$rcs;" \
        "$changed2 stopped (manifests changed), $(grep -c '^Cycle ended: manifests invalid' "$E2") read invalid," \
        "$torn2 read a state in between (declaring fewer than $N_KEEP)"
# Exit 1 must be the guard (or a Git operation, were the folder inside a repository after all);
# exit 2 a file read while empty (truncated, not yet written again).
awk '
        /^== once / { n = $3; rc = $5; runs[n] = rc; if (rc == 0) why[n] = 1; next }
        rc == 1 && /^(Deleting nothing|Stopped deleting): .*(changed since this cycle read them|a Git operation is in progress)/ { why[n] = 1 }
        rc == 2 && /^Cycle ended: manifests invalid/ { why[n] = 1 }
        END { for (n in runs) if (!(n in why)) print "once " n ": exit " runs[n] }
' "$E2" >"$TEST_TMP/bad-rcs"
chaos_diag_file "$TEST_TMP/bad-rcs" 3
is "$(wc -l <"$TEST_TMP/bad-rcs")" 0 "every once exits 0, 1 (manifests changed) or 2 (a file read empty)"
is "$(chaos_deletes_of team-keep- | wc -l)" 0 \
        "no always-declared connector received a DELETE while the files were edited in place"
[ "$torn2" -ge 1 ]; ok $? "some once runs read a state in between ($torn2)"
[ "$changed2" -ge 1 ]; ok $? "the guard stopped some once runs ($changed2)"
printf '# final\n%s\n' "$A_YES" >"$P/a.yaml"
printf '# final\n%s\n' "$Z_NO" >"$P/z.yaml"
fake_control DELETE /_fake/faults >/dev/null
reconcile -c "$CFG" once
is "$RC" 0 "once the edits stop, a once run succeeds"
is "$(chaos_state_live | grep -c '^team-orphan-')" 0 "and deletes the orphans"
is "$(chaos_state_live | grep -c '^team-keep-')" "$N_KEEP" "every always-declared connector is still there"
chaos_check_backups "$B" >"$TEST_TMP/bad-backups"
ok $? "every backup parses and names its connector ($CHAOS_BACKUPS files)"
diag "wall time $(chaos_elapsed "$T0") s"

tap_done

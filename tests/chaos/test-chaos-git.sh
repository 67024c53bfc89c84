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

command -v git >/dev/null || skip_all "git is missing"

# Git alone with the test's repositories: no user or system config, no repository around us.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_CEILING_DIRECTORIES
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 LC_ALL=C
g() { git -c user.name=chaos -c user.email=chaos@example.invalid -c init.defaultBranch=main "$@"; }

RACE=${CHAOS_GIT_SECONDS:-18} # how long the publisher and the puller race the daemon
BARE="$TEST_TMP/origin.git"
PUB="$TEST_TMP/publisher"
HOST="$TEST_TMP/host"
STAGE="$TEST_TMP/stage"
N_KEEP=40
N_FILLER=300
N_SLOTS=6
TOTAL=$((N_KEEP + N_FILLER)) # what every commit declares

# The cluster: the always-declared ones, some unmanaged ones (no set owns other-*), and a first
# batch of orphans. (The fillers' connectors are not there: reported missing, harmless.)
{
        echo '{"connectors":['
        chaos_connectors team-keep- 0 "$N_KEEP"
        echo ,
        chaos_connectors other- 0 10 confluence
        echo ,
        chaos_connectors team-orphan-init- 0 5
        echo ']}'
} >"$TEST_TMP/seed.json"
# Slow enough that a cycle's read of the manifests and its first DELETE are 100 ms or more apart.
cat >"$TEST_TMP/faults.json" <<'JSON'
{"faults": [
  {"method": "GET", "path": "/_connector", "delay_ms": 20},
  {"method": "GET", "path": "/_connector/*", "delay_ms": 40},
  {"method": "DELETE", "path": "/_connector/*", "delay_ms": 20}
]}
JSON
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
# write_config names $TEST_TMP/manifests; the daemon reads the host checkout instead.
write_config "$CFG" "interval: 100ms" "jitter: 0%" "safety:" "  max_deletions: unlimited"
sed -i "s|^manifests: .*|manifests: $HOST|" "$CFG"

# ---- The repositories: bare origin, publisher, host.
g init -q --bare "$BARE"
g -C "$BARE" symbolic-ref HEAD refs/heads/main
g init -q "$PUB"
g -C "$PUB" symbolic-ref HEAD refs/heads/main
g -C "$PUB" config gc.auto 0
g -C "$PUB" remote add origin "$BARE"
# Each filler: a small set and 20 KB of comments, which the daemon reads and digests all the same.
mkdir -p "$PUB/filler"
PAD=$(awk 'BEGIN { for (i = 1; i <= 300; i++) printf "# filler, line %03d: here so that reading the tree takes a while\n", i }')
for i in $(seq 0 $((N_FILLER - 1))); do
        printf -v id 'filler-%05d' "$i"
        write_set "$PUB/filler/$id.yaml" "$id" "$id" --delete-sync-jobs "$id"
        printf '%s\n' "$PAD" >>"$PUB/filler/$id.yaml"
done

# now: the time in seconds, without a fork.
now() { printf '%(%s)T' -1; }
# slot_path K VARIANT: sets SLOT[K] to where set team-sK lives: before the fillers, after them
# (sub/ sorts after filler/), or last.
slot_path() {
        case $2 in
        0) SLOT[$1]="a$1.yaml" ;;
        1) SLOT[$1]="sub/s$1.yaml" ;;
        *) SLOT[$1]="z$1.yaml" ;;
        esac
}
# random_present: sets K to a present slot drawn at random.
random_present() {
        local p=() k
        for k in "${!SLOT[@]}"; do [ -n "${SLOT[$k]}" ] && p+=("$k"); done
        K=${p[$((RANDOM % ${#p[@]}))]}
}
# write_slots REVISION: writes the file of every present slot (SLOT[K], empty when absent) with
# the always-declared ids that OWNER[I] gives it, and a revision comment, so that no state of the
# tree ever comes back; and a copy of each in $STAGE, where commit checks them.
write_slots() {
        local k i id text lists=()
        for i in "${!OWNER[@]}"; do
                printf -v id 'team-keep-%05d' "$i"
                lists[${OWNER[$i]}]+="    - id: $id"$'\n'
        done
        for k in "${!SLOT[@]}"; do
                if [ -z "${SLOT[$k]}" ]; then
                        [ -e "$STAGE/team-s$k.yaml" ] && rm -f "$STAGE/team-s$k.yaml"
                        continue
                fi
                [ "${SLOT[$k]%/*}" = "${SLOT[$k]}" ] || [ -d "$PUB/${SLOT[$k]%/*}" ] ||
                        mkdir -p "$PUB/${SLOT[$k]%/*}"
                printf -v text '# revision %s\napiVersion: connector-reconciler/v1\nkind: ConnectorSet\n' "$1"
                printf -v text '%smetadata:\n  name: team-s%s\nspec:\n  selector:\n    id_prefix: team-\n' "$text" "$k"
                printf -v text '%s  prune:\n    allow_empty: true\n' "$text"
                if [ -n "${lists[$k]}" ]; then
                        printf -v text '%s  connectors:\n%s' "$text" "${lists[$k]}"
                else
                        printf -v text '%s  connectors: []\n' "$text"
                fi
                printf '%s' "$text" >"$PUB/${SLOT[$k]}"
                printf '%s' "$text" >"$STAGE/team-s$k.yaml"
        done
}
# check_tree WHAT DIR DECLARED: validates DIR as the daemon reads it, which must declare DECLARED
# connectors; records WHAT in $TEST_TMP/bad-commits when not.
check_tree() {
        local v
        v=$("$RECONCILER" -c "$CFG" --manifests "$2" validate 2>&1)
        case $v in
        *" $3 connectors declared: valid") ;;
        *) printf '%s: %s\n' "$1" "$v" >>"$TEST_TMP/bad-commits" ;;
        esac
}
# commit REVISION: checks the set files of the publisher's tree (the fillers never change: the
# whole tree is checked at the first commit and the last), commits and pushes it.
commit() {
        check_tree "revision $1" "$STAGE" "$N_KEEP"
        g -C "$PUB" add -A &&
                g -C "$PUB" commit -q -m "revision $1" &&
                g -C "$PUB" push -q origin main 2>>"$TEST_TMP/push.err"
}

SLOT=()
OWNER=()
for k in $(seq 1 "$N_SLOTS"); do slot_path "$k" $((k % 3)); done
for i in $(seq 0 $((N_KEEP - 1))); do OWNER[i]=$((i % N_SLOTS + 1)); done
mkdir -p "$STAGE"
write_slots 0
check_tree "revision 0, whole" "$PUB" "$TOTAL"
commit 0 || { diag "the first commit failed: $(cat "$TEST_TMP/push.err")"; exit 1; }
g clone -q "$BARE" "$HOST" || exit 1
g -C "$HOST" config gc.auto 0
g -C "$HOST" config maintenance.auto false
g -C "$HOST" config pull.ff only

# publish: until $STOP exists (at most RACE + 30 s), commits and pushes as fast as it can. Each
# commit moves one to four always-declared connectors to another set; now and then one deletes a
# set's file (its connectors go to the others), brings one back, or renames one (git mv: before or
# after the fillers, or last). Writes how many commits it pushed to $TEST_TMP/commits.
publish() {
        local n=1 end=$(($(now) + RACE + 30)) k r i m present old front
        RANDOM=42
        while [ ! -e "$STOP" ] && [ "$(now)" -lt "$end" ]; do
                k=$((RANDOM % N_SLOTS + 1))
                r=$((RANDOM % 10))
                present=0
                for old in "${SLOT[@]}"; do [ -n "$old" ] && present=$((present + 1)); done
                if [ "$r" -eq 0 ] && [ -n "${SLOT[$k]}" ] && [ "$present" -gt 3 ]; then
                        g -C "$PUB" rm -q "${SLOT[$k]}"
                        SLOT[k]=""
                        for i in "${!OWNER[@]}"; do
                                [ "${OWNER[$i]}" -eq "$k" ] && { random_present; OWNER[i]=$K; }
                        done
                elif [ "$r" -le 2 ] && [ -z "${SLOT[$k]}" ]; then
                        slot_path "$k" $((RANDOM % 3))
                elif [ "$r" -le 2 ]; then
                        old=${SLOT[$k]}
                        slot_path "$k" $((RANDOM % 3))
                        if [ "$old" != "${SLOT[$k]}" ]; then
                                mkdir -p "$PUB/sub"
                                g -C "$PUB" mv "$old" "${SLOT[$k]}"
                        fi
                fi
                # All toward the front of the read order, or all toward its back: in a state
                # in between, the first declares the moved connectors nowhere, the second twice.
                front=$((RANDOM % 2))
                for ((m = RANDOM % 4 + 1; m > 0; m--)); do
                        random_present
                        i=$((RANDOM % N_KEEP))
                        if [ "$front" -eq 1 ]; then
                                [[ ${SLOT[$K]} < ${SLOT[${OWNER[$i]}]} ]] && OWNER[i]=$K
                        else
                                [[ ${SLOT[$K]} > ${SLOT[${OWNER[$i]}]} ]] && OWNER[i]=$K
                        fi
                done
                write_slots "$n"
                commit "$n" || echo "revision $n: commit or push failed" >>"$TEST_TMP/bad-commits"
                n=$((n + 1))
                sleep "0.0$((RANDOM % 5))"
        done
        echo $((n - 1)) >"$TEST_TMP/commits"
}
# cycle_line WHAT SECONDS: waits for the next "Cycle WHAT" line the daemon logs (on descriptor 3,
# lines logged before the call skipped), giving up after SECONDS without a line.
cycle_line() {
        local l
        while read -r -t 0 -u 3; do read -r -u 3 _; done
        while read -r -t "$2" -u 3 l; do
                case $l in "Cycle $1"*) return 0 ;; esac
        done
        return 1
}
# pull: until $STOP exists (at most RACE + 30 s), updates the host checkout over and over, in
# rounds of three: twice a `git fetch`, then a `git merge --ff-only` the moment the daemon logs
# "Cycle started", so that the checkout lands in the daemon's read of the tree far more often than
# by chance; then a `git pull --ff-only` right after a cycle ended, and the next cycle left alone
# (so that some cycles delete). Writes how many updates ran, how many failed and how many were
# timed on a cycle's start.
pull() {
        local n=0 failed=0 timed=0 end=$(($(now) + RACE + 30))
        exec 3< <(tail -n 0 --pid="$BASHPID" -f "$TEST_TMP/run.err" | grep --line-buffered '^Cycle \(started\|ended\)')
        while [ ! -e "$STOP" ] && [ "$(now)" -lt "$end" ]; do
                if [ $((n % 3)) -lt 2 ]; then
                        g -C "$HOST" fetch -q origin 2>>"$TEST_TMP/pull.err" || failed=$((failed + 1))
                        cycle_line started 1 && timed=$((timed + 1))
                        g -C "$HOST" merge -q --ff-only origin/main 2>>"$TEST_TMP/pull.err" ||
                                failed=$((failed + 1))
                else
                        cycle_line ended 3
                        g -C "$HOST" pull -q --ff-only 2>>"$TEST_TMP/pull.err" || failed=$((failed + 1))
                        cycle_line ended 3
                fi
                n=$((n + 1))
        done
        exec 3<&-
        echo "$n $failed $timed" >"$TEST_TMP/pulls"
}
# orphans: until $STOP exists (at most RACE + 30 s), three new orphans every second.
orphans() {
        local n=0 id end=$(($(now) + RACE + 30))
        while [ ! -e "$STOP" ] && [ "$(now)" -lt "$end" ]; do
                printf -v id 'team-orphan-%04d-' "$n"
                fake_control POST /_fake/connectors "{\"connectors\":[$(chaos_connectors "$id" 0 3)]}" >/dev/null
                n=$((n + 1))
                sleep 1
        done
        echo "$n" >"$TEST_TMP/orphan-rounds"
}

# ---- Part 1: the race.
diag "$N_FILLER fillers, $N_SLOTS sets of always-declared connectors, repositories set up in $(chaos_elapsed "$T0") s"
"$RECONCILER" --log-target console -v -c "$CFG" run 2>"$TEST_TMP/run.err" &
DAEMON=$!
TEST_PIDS="$TEST_PIDS $DAEMON"
rm -f "$STOP"
publish &
PUBLISH=$!
pull &
PULL=$!
orphans &
ORPHANS=$!
TEST_PIDS="$TEST_PIDS $PUBLISH $PULL $ORPHANS"
sleep "$RACE"
kill -0 "$DAEMON" 2>/dev/null
ok $? "the daemon is still running after ${RACE} s of pulls"
touch "$STOP"
wait_exit "$PUBLISH" 60 "the publisher, once told to stop"
wait_exit "$PULL" 60 "the pull loop, once told to stop"
wait_exit "$ORPHANS" 60 "the orphan maker, once told to stop"
RACE_LINES=$(wc -l <"$TEST_TMP/run.err")
RACE_DELETED=$(deleted_ids | grep -c '^team-orphan-')

# ---- Things settle: the last commit pulled, the orphans go.
T1=$(date +%s.%N)
g -C "$HOST" pull -q --ff-only 2>>"$TEST_TMP/pull.err"
is "$(g -C "$HOST" rev-parse HEAD)" "$(g -C "$PUB" rev-parse HEAD)" "the host checks out the last commit"
check_tree "the last commit, whole" "$HOST" "$TOTAL"
settled() {
        [ "$(chaos_state_live | grep -c '^team-orphan-')" -eq 0 ] &&
                tail -n +"$((RACE_LINES + 1))" "$TEST_TMP/run.err" |
                grep -q '^Cycle ended: deleted 0, already gone 0, failed 0,'
}
wait_for 20 settled
ok $? "once the publisher stops, the orphans go and a cycle ends with nothing to delete"
stop_pid "$DAEMON" 10 "the daemon, on SIGTERM"
is "$?" 0 "the daemon stops cleanly on SIGTERM, within 10 s"
diag "settled and stopped in $(chaos_elapsed "$T1") s"

# ---- What happened.
E="$TEST_TMP/run.err"
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

[ -s "$TEST_TMP/bad-commits" ] && chaos_diag_file "$TEST_TMP/bad-commits" 3
is "$(cat "$TEST_TMP/bad-commits" 2>/dev/null | wc -l)" 0 \
        "every commit is valid and declares all $TOTAL connectors"
is "$(chaos_deletes_of team-keep- | wc -l)" 0 "no always-declared connector ever received a DELETE"
[ -n "$(chaos_deletes_of team-keep-)" ] && diag "DELETEd: $(chaos_deletes_of team-keep- | sort -u | head -n 5 | tr '\n' ' ')"
is "$(chaos_deletes_of other- | wc -l)" 0 "nor any unmanaged connector"

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

is "$(chaos_state_live | grep -c '^team-keep-')" "$N_KEEP" "every always-declared connector is still there"
is "$(chaos_state_live | grep -c '^other-')" 10 "and every unmanaged one"
chaos_check_backups "$B" >"$TEST_TMP/bad-backups"
ok $? "every backup parses and names its connector ($CHAOS_BACKUPS files)"
chaos_diag_file "$TEST_TMP/bad-backups"
is "$(chaos_unbacked "$B" | head -n 5)" "" "every connector the reconciler deleted has a backup"
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

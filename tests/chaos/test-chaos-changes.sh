#!/bin/bash
# The cluster and the manifests change while a cycle runs. The fake lists slowly (a delay on every
# GET /_connector, 20 connectors a page) while a loop creates connectors that sort first (shifting
# every page) and deletes others through the API; meanwhile another loop replaces a manifest file
# over and over (written under a temporary name, then renamed over it), between two versions that
# both declare the same core connectors. Then the same with the manifests folder itself swapped
# (a symbolic link renamed over, as git-sync does) between two trees that declare a connector in
# different files. Asserts: a connector declared in every version of the manifests never gets a
# DELETE, nor does an unmanaged one; a manifest replaced by rename never reads as invalid; every
# DELETE the cluster carried out had a backup; the orphans are gone once things settle.
. "$top_srcdir/tests/chaos/chaos-lib.sh"

# The cluster: 300 always declared, 100 declared by one version of team.yaml only, 200 orphans,
# 100 orphans the churn loop deletes itself, 50 unmanaged, and one connector for each of 200
# small sets (their files make the folder slower to read).
{
        echo '{"connectors":['
        chaos_connectors team-keep- 0 300
        echo ,
        chaos_connectors team-flip- 0 100
        echo ,
        chaos_connectors team-old- 0 200
        echo ,
        chaos_connectors team-churn- 0 100
        echo ,
        chaos_connectors other- 0 50 confluence
        echo ,
        chaos_connectors filler- 0 200
        echo ']}'
} >"$TEST_TMP/seed.json"

# A second set owns every team-* connector and declares none (allow_empty): were team.yaml ever
# read as missing or empty, every team-* connector would look like its orphan.
write_set "$M/platform.yaml" platform team- --allow-empty
for i in $(seq 0 199); do
        id=$(printf 'filler-%05d' "$i")
        write_set "$M/$id.yaml" "$id" "$id" --delete-sync-jobs "$id"
done
# Version A declares team-keep-* and team-flip-*; version B only team-keep-*, plus a second set.
{ chaos_ids team-keep- 0 300; chaos_ids team-flip- 0 100; } |
        write_set "$TEST_TMP/team-a.yaml" team team- --delete-sync-jobs -
chaos_ids team-keep- 0 300 | write_set "$TEST_TMP/team-b.yaml" team team- --delete-sync-jobs -
write_set "$TEST_TMP/extra.yaml" team-extra team-bx- --delete-sync-jobs team-bx-00000
{ echo ---; cat "$TEST_TMP/extra.yaml"; } >>"$TEST_TMP/team-b.yaml"
cp "$TEST_TMP/team-a.yaml" "$M/team.yaml"

echo '{"faults":[{"method":"GET","path":"/_connector","delay_ms":25}]}' >"$TEST_TMP/faults.json"
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json" --fault-seed 7
write_config "$CFG" "concurrency: 4" "safety:" "  max_deletions: unlimited" "interval: 1s" "jitter: 0%"

# churn: until $STOP exists (at most 60 s), adds a connector sorting before all others (an orphan
# or an unmanaged one) and deletes a team-churn-* one through the API, every 50 ms or so.
churn() {
        n=0
        end=$(($(date +%s) + 60))
        while [ ! -e "$STOP" ] && [ "$(date +%s)" -lt "$end" ]; do
                [ $((n % 2)) -eq 0 ] && kind=team-new || kind=other-new
                id=$(printf '%s-%05d' "$kind" "$n")
                fake_control POST /_fake/connectors \
                        "{\"connectors\":[$(connector "$id" "search-0-$id" google_drive)]}" >/dev/null
                [ "$n" -lt 100 ] && fake_curl DELETE "/_connector/$(printf 'team-churn-%05d' "$n")"
                n=$((n + 1))
                sleep 0.05
        done
}
# rewrite FILE VERSION-A VERSION-B: until $STOP exists (at most 60 s), replaces FILE by each
# version in turn: written under a temporary name in the same folder, then renamed over it.
rewrite() {
        n=0
        end=$(($(date +%s) + 60))
        while [ ! -e "$STOP" ] && [ "$(date +%s)" -lt "$end" ]; do
                [ $((n % 2)) -eq 0 ] && src=$2 || src=$3
                # Both kinds of temporary name the reader skips: a dot name, and no .yaml suffix.
                [ $((n % 4)) -lt 2 ] && tmp="$(dirname "$1")/.$(basename "$1").tmp" || tmp="$1.new"
                cat "$src" >"$tmp" && mv -f "$tmp" "$1"
                n=$((n + 1))
                sleep 0.01
        done
        echo "$n" >"$TEST_TMP/rewrites"
}

# ---- Part 1: the cluster and team.yaml change under `once` runs and then a `run` daemon.
rm -f "$STOP"
churn &
CHURN=$!
rewrite "$M/team.yaml" "$TEST_TMP/team-a.yaml" "$TEST_TMP/team-b.yaml" &
REWRITE=$!
TEST_PIDS="$TEST_PIDS $CHURN $REWRITE"

rcs=""
for i in 1 2 3 4; do
        timeout -k 5 60 "$RECONCILER" --log-target console -c "$CFG" --page-size 20 once \
                2>"$TEST_TMP/once-$i.err"
        rcs="$rcs $?"
done
"$RECONCILER" --log-target console -c "$CFG" --page-size 20 run 2>"$TEST_TMP/run.err" &
DAEMON=$!
TEST_PIDS="$TEST_PIDS $DAEMON"
wait_alive "$DAEMON" 60 has_lines 4 '^Cycle ended' "$TEST_TMP/run.err"
ok $? "the daemon ran 4 cycles meanwhile"
touch "$STOP"
wait_exit "$CHURN" 30 "the churn loop, once told to stop"
wait_exit "$REWRITE" 30 "the rewrite loop, once told to stop"
stop_pid "$DAEMON" 10 "the daemon, on SIGTERM"
is "$?" 0 "the daemon stops cleanly"
diag "once exit statuses:$rcs; daemon cycles: $(grep -c '^Cycle ended' "$TEST_TMP/run.err");" \
        "team.yaml replaced $(cat "$TEST_TMP/rewrites") times; $(chaos_elapsed "$T0") s"

cat "$TEST_TMP"/once-*.err "$TEST_TMP/run.err" >"$TEST_TMP/all.err"
# A run whose manifests changed under it, or whose listing never held still for long enough to be
# read consistently, deletes nothing more and exits 1, saying so: the failures allowed here.
bad_rcs=""
i=0
for rc in $rcs; do
        i=$((i + 1))
        [ "$rc" = 0 ] && continue
        [ "$rc" = 1 ] && grep -q "changed since this cycle read them\|listing changed while it was read, 3 times" \
                "$TEST_TMP/once-$i.err" && continue
        bad_rcs="$bad_rcs $rc"
done
is "$bad_rcs" "" "every 'once' run exits 0, or 1 because its manifests or its listing changed under it"
is "$(grep -c 'manifests .* are invalid\|Cycle ended: manifests invalid' "$TEST_TMP/all.err")" 0 \
        "a manifest replaced by rename never reads as invalid"
grep "manifests\|team.yaml" "$TEST_TMP/all.err" | grep -v '^Cycle' >"$TEST_TMP/manifest-errors"
chaos_diag_file "$TEST_TMP/manifest-errors" 3
grep 'The connector listing changed while it was read' "$TEST_TMP/all.err" >"$TEST_TMP/changed"
changed=$(wc -l <"$TEST_TMP/changed")
diag "cycles whose listing changed while it was read: $changed of" \
        "$(grep -c '^Cycle ended' "$TEST_TMP/all.err")"
[ "$changed" -ge 1 ]; ok $? "the listing moved under some cycles (the scenario happened)"
chaos_diag_file "$TEST_TMP/changed" 1
is "$(chaos_deletes_of team-keep- filler- other- | wc -l)" 0 \
        "no connector declared in every version, nor any unmanaged one, ever received a DELETE"
flips=$(chaos_deletes_of team-flip- | sort -u | wc -l)
diag "team-flip-* connectors deleted while version B was read: $flips of 100"

# ---- Things settle: version A, no churn; the orphans go.
cp "$TEST_TMP/team-a.yaml" "$M/team.yaml"
reconcile -c "$CFG" --page-size 20 once
is "$RC" 0 "once things settle, a cycle succeeds"
is "$(chaos_state_live | grep -c '^team-\(old\|new\|churn\)-')" 0 "and every orphan is gone"
is "$(chaos_state_live | grep -c '^team-keep-\|^filler-')" 500 \
        "every always-declared connector is still there"
is "$(chaos_state_deleted | grep -c '^other-')" 0 "every unmanaged connector is still there"
chaos_check_backups "$B" >"$TEST_TMP/bad-backups"
ok $? "every backup parses and names its connector ($CHAOS_BACKUPS files)"
chaos_diag_file "$TEST_TMP/bad-backups"
# The churn loop's own API deletes of team-churn-* have no backup: leave them out.
is "$(chaos_unbacked "$B" | grep -v '^team-churn-' | head -n 5)" "" \
        "every connector the reconciler deleted has a backup"
stop_fake

# ---- Part 2 (python3 swaps the link): the manifests folder swapped whole, as git-sync does:
# `manifests` is a symbolic link, renamed over by one to the other of two trees. team-move-* is
# declared in every tree, in a.yaml in one and in z.yaml in the other, with 200 small files read
# between them.
command -v python3 >/dev/null || { diag "python3 is missing: part 2 skipped"; tap_done; exit; }
for t in tree1 tree2; do
        mkdir -p "$TEST_TMP/$t"
        cp "$M"/filler-*.yaml "$TEST_TMP/$t/"
        cp "$M/platform.yaml" "$TEST_TMP/$t/"
done
chaos_ids team-move- 0 50 | write_set "$TEST_TMP/tree1/a.yaml" team-a team- --delete-sync-jobs -
write_set "$TEST_TMP/tree1/z.yaml" team-z team- --delete-sync-jobs team-z-00000
write_set "$TEST_TMP/tree2/a.yaml" team-a team- --delete-sync-jobs team-a-00000
chaos_ids team-move- 0 50 | write_set "$TEST_TMP/tree2/z.yaml" team-z team- --delete-sync-jobs -
{
        echo '{"connectors":['
        chaos_connectors team-move- 0 50
        echo ,
        chaos_connectors team-old- 0 50
        echo ,
        chaos_connectors filler- 0 200
        echo ']}'
} >"$TEST_TMP/seed2.json"
start_fake --seed "$TEST_TMP/seed2.json"
write_config "$CFG" "concurrency: 4" "safety:" "  max_deletions: unlimited"
ln -s tree1 "$M.link"
rm -rf "$M"
mv -T "$M.link" "$M"
reconcile -c "$CFG" once
is "$RC" 0 "through the symbolic link, a cycle succeeds"
is "$(chaos_state_live | grep -c '^team-old-')" 0 "and deletes the orphans"

# swap: until $STOP exists (at most 60 s), points $M at each tree in turn, every 2 ms: a new
# symbolic link renamed over the old one (python3, for a rate shell forks cannot reach).
swap() {
        python3 - "$M" "$STOP" "$TEST_TMP/swaps" <<'PY'
import os, sys, time
link, stop, out = sys.argv[1:4]
n, end = 0, time.monotonic() + 60
while not os.path.exists(stop) and time.monotonic() < end:
        os.symlink("tree2" if n % 2 == 0 else "tree1", link + ".link")
        os.rename(link + ".link", link)
        n += 1
        time.sleep(0.002)
open(out, "w").write("%d\n" % n)
PY
}
rm -f "$STOP"
swap &
SWAP=$!
TEST_PIDS="$TEST_PIDS $SWAP"
rcs=""
for i in $(seq 20); do
        reconcile -c "$CFG" once
        rcs="$rcs $RC"
        cat "$ERR" >>"$TEST_TMP/swap.err"
done
touch "$STOP"
wait_exit "$SWAP" 30 "the swap loop, once told to stop"
diag "20 once runs while the folder was swapped $(cat "$TEST_TMP/swaps") times; exit statuses:$rcs"
# Both trees are valid and declare the same connectors: any error reads a mix of the two (in the
# other mix, a.yaml of tree 2 and z.yaml of tree 1, team-move-* is declared nowhere).
is "$(echo "$rcs" | tr ' ' '\n' | grep -vx '0\|' | tr '\n' ' ')" "" \
        "every run exits 0: no run reads a mix of the two trees"
grep "already declared" "$TEST_TMP/swap.err" >"$TEST_TMP/mixed"
chaos_diag_file "$TEST_TMP/mixed" 1
moved=$(chaos_deletes_of team-move- | sort -u | wc -l)
is "$moved" 0 "a connector declared in every tree is never deleted while the folder is swapped"
[ "$moved" -gt 0 ] && diag "DELETEd: $(chaos_deletes_of team-move- | sort -u | head -n 3 | tr '\n' ' ')"
is "$(chaos_deletes_of filler- | wc -l)" 0 "nor any other declared connector"
diag "wall time $(chaos_elapsed "$T0") s"

tap_done

#!/bin/bash
# The race of test-chaos-git.sh, with the manifests read from a commit (manifests.git in
# connector-reconciler.yaml(5)) instead of a folder: by construction no state in between can be
# read. A publisher clone of a local bare repository commits and pushes as fast as it can (each
# commit moves one to four always-declared connectors, team-keep-*, between six sets whose
# selectors overlap, now and then deletes, brings back or renames a set's file, and declares every
# team-keep-* id in some file; 300 fillers of 20 KB make a commit long to read), real orphans
# (team-orphan-*) are created every second, and the daemon (`run`, interval 100ms, against a
# cluster that answers slowly) reads
#   (a) git: file://ORIGIN, the bare repository the publisher pushes to, fetched every cycle into
#       a mirror in state_dir;
#   (b) git: HOST, a checkout updated in a loop (`git pull --ff-only`, or `git fetch` then
#       `git merge --ff-only` the moment a cycle starts, so that its ref moves during cycles),
#       read in place: its HEAD commit, never the working tree git is rewriting.
# Asserts, for each: no always-declared connector, nor any unmanaged one, ever gets a DELETE; every
# commit is valid and declares all of them; every cycle read a whole commit of the origin
# (declaring every connector), none failed to fetch or read one, and its end names that commit
# ("manifests at <12 hex>"); in (a) every cycle fetched before reading; cycles ran,
# more than one revision was applied and real orphans were deleted during the race; once the
# publisher stops, the orphans go at the origin's last commit; the daemon stops cleanly on SIGTERM;
# every backup is valid and records as .manifests.revision a commit of the origin. The cycles that
# found the ref moved between reading and deleting ("the manifests' ref moved from X to Y during
# this cycle") are counted: none can be expected in (a), whose mirror only the daemon's own fetch
# moves.
. "$top_srcdir/tests/chaos/chaos-lib.sh"
. "$top_srcdir/tests/chaos/git-race.sh" # the repositories, the publisher, the loops, the checks

# A home of our own (libgit2, in the daemon, looks there too; git-race.sh has set git alone).
export HOME="$TEST_TMP/home"
mkdir -p "$HOME"

RACE=${CHAOS_GIT_SECONDS:-12} # how long the publisher (and the puller) race the daemon, per part
HEX40='[0-9a-f]\{40\}'

race_fake

# git_config SOURCE [KEY: VALUE]...: $CFG for the fake cluster started last, run every 100 ms,
# with `manifests` the mapping git: SOURCE and the keys given.
git_config() {
        local l
        write_config "$CFG" "interval: 100ms" "jitter: 0%" "safety:" "  max_deletions: unlimited"
        {
                grep -v '^manifests: ' "$CFG"
                printf 'manifests:\n  git: %s\n' "$1"
                shift
                for l in "$@"; do printf '  %s\n' "$l"; done
        } >"$CFG.new" && mv "$CFG.new" "$CFG"
}
git_config "file://$BARE" "ref: main"

# ---- The repositories: bare origin and publisher (the host checkout is cloned for part b).
BAD_COMMITS="$TEST_TMP/bad-commits-setup"
race_origin || bail_out "the first commit failed: $(cat "$TEST_TMP/push.err")"
is "$(cat "$BAD_COMMITS" 2>/dev/null)" "" "the first commit is valid and declares all $TOTAL connectors"

# in_origin ID: ID names a commit of the origin.
in_origin() {
        g -C "$BARE" cat-file -e "$1^{commit}" 2>/dev/null
}

# race PART SEED WHAT: one race against the daemon configured in $CFG (which logs to $E), the
# host checkout pulled in a loop when PART is b; then the checks. WHAT names the source in the
# test descriptions.
race() {
        local part=$1 what=$3 origin_head pull=
        local commits pulls pull_failures pulls_timed moved cycles race_cycles reads applied
        local revisions moved_guard busy changed invalid unreadable fetch_failed blocked fetched
        local not_in_origin bad_revs backup_revs t1
        BAD_COMMITS="$TEST_TMP/bad-commits-$part"
        : >"$BAD_COMMITS"
        [ "$part" = b ] && pull=pull
        race_run "$2" "team-orphan-$part" "$pull"
        kill -0 "$DAEMON" 2>/dev/null
        ok $? "$what: the daemon is still running after ${RACE} s of commits"
        race_stop "$what: "

        # ---- Things settle: the last commit read, the orphans go.
        t1=$(date +%s.%N)
        origin_head=$(g -C "$BARE" rev-parse refs/heads/main)
        is "$origin_head" "$(g -C "$PUB" rev-parse HEAD)" "$what: the origin holds the publisher's last commit"
        if [ "$part" = b ]; then
                g -C "$HOST" pull -q --ff-only 2>>"$TEST_TMP/pull.err"
                is "$(g -C "$HOST" rev-parse HEAD)" "$origin_head" "$what: the host checks out the last commit"
        fi
        check_tree "the last commit, whole" "$PUB" "$TOTAL"
        wait_for 20 race_settled \
                "^Cycle ended: deleted 0, already gone 0, failed 0,.*; manifests at ${origin_head:0:12}\( \|\$\)"
        ok $? "$what: once the publisher stops, the orphans go and a cycle at the last commit ends with nothing to delete"
        stop_pid "$DAEMON" 10 "$what: the daemon, on SIGTERM"
        is "$?" 0 "$what: the daemon stops cleanly on SIGTERM, within 10 s"
        is "$(cat "$TEST_TMP/state/revision" 2>/dev/null)" "$origin_head" \
                "$what: the state folder records the origin's last commit as applied"
        diag "$what: settled and stopped in $(chaos_elapsed "$t1") s"

        # ---- What happened.
        commits=$(cat "$TEST_TMP/commits")
        cycles=$(grep -c '^Cycle ended' "$E")
        race_cycles=$(head -n "$RACE_LINES" "$E" | grep -c '^Cycle ended')
        reads=$(grep -c "^Read [0-9]* sets declaring [0-9]* connectors from [0-9]* files of commit $HEX40" "$E")
        fetched=$(grep -c '^Fetched ' "$E")
        # The revisions the cycles of the race named at their end, each once.
        revisions=$(head -n "$RACE_LINES" "$E" | grep '^Cycle ended: ' |
                sed -n 's/.*; manifests at \([0-9a-f]\{12\}\).*/\1/p' | sort -u | wc -l)
        # The same, of the cycles that carried out their whole plan (deleting what they found).
        applied=$(head -n "$RACE_LINES" "$E" | grep '^Cycle ended: deleted [0-9]*, already gone' |
                grep -v 'not deleted (stopped)' |
                sed -n 's/.*; manifests at \([0-9a-f]\{12\}\).*/\1/p' | sort -u | wc -l)
        moved_guard=$(grep -cE "^(Deleting nothing|Stopped deleting): the manifests' ref moved from [0-9a-f]{40} to [0-9a-f]{40} during this cycle" "$E")
        busy=$(grep -cE '^(Not reading the manifests now|Deleting nothing|Stopped deleting|The manifests were read while a Git operation).*a Git operation is in progress' "$E")
        changed=$(grep -cE '^(Deleting nothing|Stopped deleting): the manifests .* changed since this cycle read them' "$E")
        invalid=$(grep -c '^Cycle ended: manifests invalid' "$E")
        unreadable=$(grep -c '^Cycle ended: manifests unreadable' "$E")
        fetch_failed=$(grep -c '^Fetching the manifests from .* failed' "$E")
        blocked=$(grep -c '^Safety stop' "$E")
        # Per cycle (they never overlap): what it read, and what its end names. A read that declares
        # fewer or more than every commit does would be a state in between.
        awk -v t="$TOTAL" '
                function fail(why) { print "cycle " n ": " why }
                /^Cycle started/ { n++; rev = "" }
                /^Read [0-9]+ sets declaring [0-9]+ connectors from [0-9]+ files of commit / {
                        if (rev != "")
                                fail("read twice")
                        rev = substr($0, index($0, " of commit ") + 11, 40)
                        if ($5 != t)
                                fail("read " $5 " connectors declared at " rev)
                }
                /^(Deleting nothing|Stopped deleting): the manifests. ref moved from / {
                        if (substr($0, index($0, " moved from ") + 12, 40) != rev)
                                fail("read " rev ", but: " $0)
                }
                /^Cycle ended/ {
                        if (rev != "" && index($0, "; manifests at " substr(rev, 1, 12)) == 0)
                                fail("read " rev ", but ended: " $0)
                        if (rev == "" && index($0, "; manifests at ") != 0)
                                fail("read nothing, but ended: " $0)
                }
        ' "$E" >"$TEST_TMP/cycle-problems-$part"
        grep -o "^Read [0-9]* sets declaring [0-9]* connectors from [0-9]* files of commit $HEX40" "$E" |
                sed 's/.* //' | sort -u >"$TEST_TMP/read-commits-$part"
        not_in_origin=$(while read -r c; do in_origin "$c" || echo "$c"; done <"$TEST_TMP/read-commits-$part")

        diag "$what: $commits commits pushed; $(cat "$TEST_TMP/orphan-rounds") rounds of 3 orphans"
        if [ "$part" = b ]; then
                read -r pulls pull_failures pulls_timed <"$TEST_TMP/pulls"
                moved=$(g -C "$HOST" reflog show HEAD | grep -c ': pull\|: merge')
                diag "$what: $pulls updates of the host ($pull_failures failed, $pulls_timed timed on a" \
                        "cycle's start), $moved moved HEAD"
        fi
        diag "$what: $cycles cycles ($race_cycles during the race, $fetched fetches), $reads read a commit" \
                "($(wc -l <"$TEST_TMP/read-commits-$part") distinct); revisions named at a cycle's end during" \
                "the race: $revisions, of cycles that carried out their plan: $applied"
        diag "$what: cycles' results: $(grep -o '^Cycle ended: .* RESULT=[a-z]*' "$E" | sed 's/.*RESULT=//' |
                sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')"
        diag "$what: guards: $moved_guard found the ref moved during the cycle, $busy a Git operation," \
                "$changed manifests changed, $invalid read invalid manifests, $unreadable unreadable," \
                "$fetch_failed failed fetches, $blocked safety stops"
        diag "$what: $RACE_DELETED orphans deleted during the race, $(deleted_ids | grep -c '^team-orphan-') in all"

        race_check_deletes "$what: "
        chaos_diag_file "$TEST_TMP/cycle-problems-$part" 5
        is "$(wc -l <"$TEST_TMP/cycle-problems-$part")" 0 \
                "$what: every cycle read one whole commit (all $TOTAL connectors), and its end (and a moved ref's message) names that commit"
        is "$((invalid + unreadable + fetch_failed))" 0 \
                "$what: no cycle failed to fetch or read its commit, nor read invalid manifests"
        if [ "$part" = a ]; then
                is "$fetched" "$reads" "$what: every cycle that read a commit had fetched the origin first"
        fi
        is "$not_in_origin" "" "$what: every commit read is one of the origin's"

        # Lower bounds low enough for a loaded machine or a sanitizer build (which runs several times
        # slower); the counts are in the diag lines above.
        [ "$commits" -ge 4 ]; ok $? "$what: the publisher pushed 4 commits or more ($commits)"
        if [ "$part" = b ]; then
                [ "$moved" -ge 3 ]; ok $? "$what: the host pulled 3 times or more a new commit ($moved fast-forwards)"
        fi
        [ "$race_cycles" -ge 4 ]; ok $? "$what: the daemon ran 4 cycles or more meanwhile ($race_cycles)"
        [ "$applied" -ge 2 ]; ok $? "$what: and carried out the plans of more than one revision ($applied)"
        [ "$RACE_DELETED" -ge 1 ]; ok $? "$what: and deleted real orphans meanwhile ($RACE_DELETED)"

        race_check_cluster "$what: "
        find "$B" -maxdepth 1 -name '*.json' ! -name '.*' -print0 |
                xargs -0 -r jq -r '.manifests.revision | tostring' | sort | uniq -c >"$TEST_TMP/backup-revs-$part"
        backup_revs=$(wc -l <"$TEST_TMP/backup-revs-$part")
        bad_revs=$(awk '{ print $2 }' "$TEST_TMP/backup-revs-$part" | while read -r c; do
                case $c in
                *[!0-9a-f]*) echo "$c" ;;
                *) [ "${#c}" -eq 40 ] && in_origin "$c" || echo "$c" ;;
                esac
        done)
        is "$bad_revs" "" "$what: every backup records a commit of the origin as its revision ($backup_revs distinct)"
        is "$(awk '{ print $2 }' "$TEST_TMP/backup-revs-$part" | comm -23 - "$TEST_TMP/read-commits-$part")" "" \
                "$what: one that a cycle read"
        diag "$what: $(chaos_elapsed "$t1") s after the race"
}

# ---- Part a: the origin, fetched every cycle into a mirror.
diag "$N_FILLER fillers, $N_SLOTS sets of always-declared connectors, repository set up in $(chaos_elapsed "$T0") s"
E="$TEST_TMP/run-a.err"
race a 42 "file:// origin"
ls -d "$TEST_TMP"/state/git/*.git >/dev/null 2>&1
ok $? "file:// origin: the mirror is in the state folder"
diag "part a: $(chaos_elapsed "$T0") s"

# ---- Part b: a checkout of it, pulled in a loop, read in place. A new cluster (new request log,
# no state, no backups).
T2=$(date +%s.%N)
stop_fake
rm -rf "$B"
race_fake
race_clone_host || bail_out "could not clone the origin"
git_config "$HOST"
E="$TEST_TMP/run-b.err"
race b 43 "pulled checkout"
[ ! -e "$TEST_TMP/state/git" ]
ok $? "pulled checkout: a local repository is read in place, never mirrored"
diag "part b: $(chaos_elapsed "$T2") s; wall time $(chaos_elapsed "$T0") s"

tap_done

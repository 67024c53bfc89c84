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

command -v git >/dev/null || skip_all "git is missing"

# Git alone with the test's repositories: no user or system config, no repository around us, and
# a home of our own (libgit2, in the daemon, looks there too).
export HOME="$TEST_TMP/home"
mkdir -p "$HOME"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_CEILING_DIRECTORIES
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 LC_ALL=C
g() { git -c user.name=chaos -c user.email=chaos@example.invalid -c init.defaultBranch=main "$@"; }

RACE=${CHAOS_GIT_SECONDS:-12} # how long the publisher (and the puller) race the daemon, per part
BARE="$TEST_TMP/origin.git"
PUB="$TEST_TMP/publisher"
HOST="$TEST_TMP/host"
STAGE="$TEST_TMP/stage"
N_KEEP=40
N_FILLER=300
N_SLOTS=6
TOTAL=$((N_KEEP + N_FILLER)) # what every commit declares
HEX40='[0-9a-f]\{40\}'

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
# check_tree WHAT DIR DECLARED: validates DIR as a folder of manifests (--manifests replaces the
# config's Git source), which must declare DECLARED connectors; records WHAT in $BAD_COMMITS when
# not.
check_tree() {
        local v
        v=$("$RECONCILER" -c "$CFG" --manifests "$2" validate 2>&1)
        case $v in
        *" $3 connectors declared: valid") ;;
        *) printf '%s: %s\n' "$1" "$v" >>"$BAD_COMMITS" ;;
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

BAD_COMMITS="$TEST_TMP/bad-commits-setup"
SLOT=()
OWNER=()
REV=0 # the last revision published
for k in $(seq 1 "$N_SLOTS"); do slot_path "$k" $((k % 3)); done
for i in $(seq 0 $((N_KEEP - 1))); do OWNER[i]=$((i % N_SLOTS + 1)); done
mkdir -p "$STAGE"
write_slots 0
check_tree "revision 0, whole" "$PUB" "$TOTAL"
commit 0 || bail_out "the first commit failed: $(cat "$TEST_TMP/push.err")"
is "$(cat "$BAD_COMMITS" 2>/dev/null)" "" "the first commit is valid and declares all $TOTAL connectors"

# publish SEED: until $STOP exists (at most RACE + 30 s), commits and pushes as fast as it can,
# from revision REV + 1 on. Each commit moves one to four always-declared connectors to another
# set; now and then one deletes a set's file (its connectors go to the others), brings one back,
# or renames one (git mv: before or after the fillers, or last). Writes how many commits it pushed
# to $TEST_TMP/commits, and where it left the sets to $TEST_TMP/publisher.state (the next part
# goes on from there).
publish() {
        local n=$((REV + 1)) end=$(($(now) + RACE + 30)) k r i m present old front
        RANDOM=$1
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
                # All toward the front of the read order, or all toward its back: read file by
                # file in a state in between, the first would declare the moved connectors
                # nowhere, the second twice.
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
                commit "$n" || echo "revision $n: commit or push failed" >>"$BAD_COMMITS"
                n=$((n + 1))
                sleep "0.0$((RANDOM % 5))"
        done
        echo $((n - 1 - REV)) >"$TEST_TMP/commits"
        {
                for k in "${!SLOT[@]}"; do printf 'SLOT[%s]=%q\n' "$k" "${SLOT[$k]}"; done
                for i in "${!OWNER[@]}"; do printf 'OWNER[%s]=%s\n' "$i" "${OWNER[$i]}"; done
                printf 'REV=%s\n' "$((n - 1))"
        } >"$TEST_TMP/publisher.state"
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
# "Cycle started", so that the ref moves while a cycle runs far more often than by chance; then
# a `git pull --ff-only` right after a cycle ended, and the next cycle left alone. Writes how many
# updates ran, how many failed and how many were timed on a cycle's start.
pull() {
        local n=0 failed=0 timed=0 end=$(($(now) + RACE + 30))
        exec 3< <(tail -n 0 --pid="$BASHPID" -f "$E" | grep --line-buffered '^Cycle \(started\|ended\)')
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
# orphans PREFIX: until $STOP exists (at most RACE + 30 s), three new orphans every second.
orphans() {
        local n=0 id end=$(($(now) + RACE + 30))
        while [ ! -e "$STOP" ] && [ "$(now)" -lt "$end" ]; do
                printf -v id '%s%04d-' "$1" "$n"
                fake_control POST /_fake/connectors "{\"connectors\":[$(chaos_connectors "$id" 0 3)]}" >/dev/null
                n=$((n + 1))
                sleep 1
        done
        echo "$n" >"$TEST_TMP/orphan-rounds"
}
# in_origin ID: ID names a commit of the origin.
in_origin() {
        g -C "$BARE" cat-file -e "$1^{commit}" 2>/dev/null
}

# race PART SEED WHAT: one race against the daemon configured in $CFG (which logs to $E), the
# host checkout pulled in a loop when PART is b; then the checks. WHAT names the source in the
# test descriptions.
race() {
        local part=$1 what=$3 race_lines race_deleted origin_head daemon publisher puller maker
        local commits pulls pull_failures pulls_timed moved cycles race_cycles reads applied
        local revisions moved_guard busy changed invalid unreadable fetch_failed blocked fetched
        local not_in_origin bad_revs backup_revs t1
        BAD_COMMITS="$TEST_TMP/bad-commits-$part"
        : >"$BAD_COMMITS"
        rm -f "$STOP"
        "$RECONCILER" --log-target console -v -c "$CFG" run 2>"$E" &
        daemon=$!
        TEST_PIDS="$TEST_PIDS $daemon"
        publish "$2" &
        publisher=$!
        TEST_PIDS="$TEST_PIDS $publisher"
        if [ "$part" = b ]; then
                pull &
                puller=$!
                TEST_PIDS="$TEST_PIDS $puller"
        fi
        orphans "team-orphan-$part" &
        maker=$!
        TEST_PIDS="$TEST_PIDS $maker"
        sleep "$RACE"
        kill -0 "$daemon" 2>/dev/null
        ok $? "$what: the daemon is still running after ${RACE} s of commits"
        touch "$STOP"
        wait_exit "$publisher" 60 "$what: the publisher, once told to stop"
        [ -z "$puller" ] || wait_exit "$puller" 60 "$what: the pull loop, once told to stop"
        wait_exit "$maker" 60 "$what: the orphan maker, once told to stop"
        race_lines=$(wc -l <"$E")
        race_deleted=$(deleted_ids | grep -c '^team-orphan-')
        # shellcheck disable=SC1091 # (written by publish)
        . "$TEST_TMP/publisher.state"

        # ---- Things settle: the last commit read, the orphans go.
        t1=$(date +%s.%N)
        origin_head=$(g -C "$BARE" rev-parse refs/heads/main)
        is "$origin_head" "$(g -C "$PUB" rev-parse HEAD)" "$what: the origin holds the publisher's last commit"
        if [ "$part" = b ]; then
                g -C "$HOST" pull -q --ff-only 2>>"$TEST_TMP/pull.err"
                is "$(g -C "$HOST" rev-parse HEAD)" "$origin_head" "$what: the host checks out the last commit"
        fi
        check_tree "the last commit, whole" "$PUB" "$TOTAL"
        settled() {
                [ "$(chaos_state_live | grep -c '^team-orphan-')" -eq 0 ] &&
                        tail -n +"$((race_lines + 1))" "$E" |
                        grep -q "^Cycle ended: deleted 0, already gone 0, failed 0,.*; manifests at ${origin_head:0:12}\( \|\$\)"
        }
        wait_for 20 settled
        ok $? "$what: once the publisher stops, the orphans go and a cycle at the last commit ends with nothing to delete"
        stop_pid "$daemon" 10 "$what: the daemon, on SIGTERM"
        is "$?" 0 "$what: the daemon stops cleanly on SIGTERM, within 10 s"
        is "$(cat "$TEST_TMP/state/revision" 2>/dev/null)" "$origin_head" \
                "$what: the state folder records the origin's last commit as applied"
        diag "$what: settled and stopped in $(chaos_elapsed "$t1") s"

        # ---- What happened.
        commits=$(cat "$TEST_TMP/commits")
        cycles=$(grep -c '^Cycle ended' "$E")
        race_cycles=$(head -n "$race_lines" "$E" | grep -c '^Cycle ended')
        reads=$(grep -c "^Read [0-9]* sets declaring [0-9]* connectors from [0-9]* files of commit $HEX40" "$E")
        fetched=$(grep -c '^Fetched ' "$E")
        # The revisions the cycles of the race named at their end, each once.
        revisions=$(head -n "$race_lines" "$E" | grep '^Cycle ended: ' |
                sed -n 's/.*; manifests at \([0-9a-f]\{12\}\).*/\1/p' | sort -u | wc -l)
        # The same, of the cycles that carried out their whole plan (deleting what they found).
        applied=$(head -n "$race_lines" "$E" | grep '^Cycle ended: deleted [0-9]*, already gone' |
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
        diag "$what: $race_deleted orphans deleted during the race, $(deleted_ids | grep -c '^team-orphan-') in all"

        chaos_diag_file "$BAD_COMMITS" 3
        is "$(wc -l <"$BAD_COMMITS")" 0 "$what: every commit is valid and declares all $TOTAL connectors"
        is "$(chaos_deletes_of team-keep- | wc -l)" 0 "$what: no always-declared connector ever received a DELETE"
        [ -n "$(chaos_deletes_of team-keep-)" ] &&
                diag "DELETEd: $(chaos_deletes_of team-keep- | sort -u | head -n 5 | tr '\n' ' ')"
        is "$(chaos_deletes_of other- | wc -l)" 0 "$what: nor any unmanaged connector"
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
        [ "$race_deleted" -ge 1 ]; ok $? "$what: and deleted real orphans meanwhile ($race_deleted)"

        is "$(chaos_state_live | grep -c '^team-keep-')" "$N_KEEP" "$what: every always-declared connector is still there"
        is "$(chaos_state_live | grep -c '^other-')" 10 "$what: and every unmanaged one"
        chaos_check_backups "$B" >"$TEST_TMP/bad-backups"
        ok $? "$what: every backup parses and names its connector ($CHAOS_BACKUPS files)"
        chaos_diag_file "$TEST_TMP/bad-backups"
        is "$(chaos_unbacked "$B" | head -n 5)" "" "$what: every connector the reconciler deleted has a backup"
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
start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
g clone -q "$BARE" "$HOST" || bail_out "could not clone the origin"
g -C "$HOST" config gc.auto 0
g -C "$HOST" config maintenance.auto false
g -C "$HOST" config pull.ff only
git_config "$HOST"
E="$TEST_TMP/run-b.err"
race b 43 "pulled checkout"
[ ! -e "$TEST_TMP/state/git" ]
ok $? "pulled checkout: a local repository is read in place, never mirrored"
diag "part b: $(chaos_elapsed "$T2") s; wall time $(chaos_elapsed "$T0") s"

tap_done

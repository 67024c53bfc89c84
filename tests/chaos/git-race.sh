# shellcheck shell=bash
# The race of a Git publisher against the daemon, shared by tests/chaos/test-chaos-git.sh (the
# daemon reads a folder: a host checkout being pulled) and tests/chaos/test-chaos-git-source.sh
# (it reads a Git source: a file:// remote, then a checkout's HEAD commit). Source it after
# chaos-lib.sh:  . "$top_srcdir/tests/chaos/git-race.sh"  (the test is skipped when git is
# missing). Sourcing it only sets Git up (no user or system config, no repository around us; g
# runs git as the test's author) and the variables below; the functions do the rest.
#
# A publisher clone $PUB of a local bare repository $BARE commits and pushes as fast as it can:
# each commit moves one to four always-declared connectors (team-keep-*) between $N_SLOTS sets
# whose selectors overlap (each owns id_prefix team-), now and then deletes, brings back or renames
# a set's file, and declares every team-keep-* id in some file. $N_FILLER files of 20 KB sort
# between the first and the last set files (a*.yaml, filler/, sub/, z*.yaml), so that a read of
# the tree lasts. Real orphans (team-orphan-*) are created every second, and the host checkout
# $HOST can be updated in a loop.
#
# The test sets, before it calls the functions that use them:
#   RACE         how long (seconds) the publisher, the puller and the orphan maker race the daemon
#   E            the file the daemon logs to (race_run writes it; pull and race_settled read it)
#   BAD_COMMITS  the file check_tree (and publish) records the bad commits in, one a line
# and the config $CFG (tests/lib.sh) the daemon and check_tree read.
#
# What it sets:
#   BARE, PUB, HOST, STAGE    the origin (bare), the publisher's clone, the host checkout (made by
#                             race_clone_host) and the copies of the set files commit checks
#   N_KEEP, N_FILLER, N_SLOTS the always-declared connectors, the fillers, the sets
#   TOTAL                     the connectors every commit declares (N_KEEP + N_FILLER)
#   SLOT[K], OWNER[I], REV    where set team-sK lives ("" when deleted), the set that declares
#                             team-keep-I, the last revision published (race_origin; race_stop
#                             takes them over from the publisher)
#   K                         the slot random_present drew
#   DAEMON, PUBLISHER, PULLER, MAKER   the race's processes (race_run; PULLER "" without pull)
#   RACE_LINES, RACE_DELETED  the lines $E had and the orphans deleted when the race stopped
#
# The functions (each documented where it is defined):
#   g ARGS...                 git, as the test's author
#   race_fake                 a new fake cluster, seeded, answering slowly
#   race_origin               the repositories and revision 0, committed and pushed
#   race_clone_host           the host checkout
#   now, slot_path, random_present, write_slots, check_tree, commit    the publisher's pieces
#   publish SEED, cycle_line WHAT SECONDS, pull, orphans PREFIX         the race's loops
#   race_run SEED ORPHAN-PREFIX [pull], race_stop WHAT                 the race itself
#   race_settled PATTERN      after the race: no orphan left, and the daemon logged PATTERN
#   race_check_deletes WHAT, race_check_cluster WHAT                   a race's last checks
# The WHAT of race_stop and of the checks starts their TAP descriptions and the names of their
# waits: "" or, for instance, "file:// origin: ".

command -v git >/dev/null || skip_all "git is missing"

# Git alone with the test's repositories: no user or system config, no repository around us.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_CEILING_DIRECTORIES
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 LC_ALL=C
# g ARGS...: git ARGS, as the test's author, a new repository's branch named main.
g() { git -c user.name=chaos -c user.email=chaos@example.invalid -c init.defaultBranch=main "$@"; }

BARE="$TEST_TMP/origin.git"
PUB="$TEST_TMP/publisher"
HOST="$TEST_TMP/host"
STAGE="$TEST_TMP/stage"
N_KEEP=40
N_FILLER=300
N_SLOTS=6
TOTAL=$((N_KEEP + N_FILLER)) # what every commit declares

# race_fake: a new fake cluster (start_fake) seeded with the always-declared connectors, some
# unmanaged ones (other-*: no set owns them) and a first batch of orphans (the fillers' connectors
# are not there: reported missing, harmless); slow enough that a cycle's read of the manifests and
# its first DELETE are 100 ms or more apart. The seed and the faults are left in $TEST_TMP/seed.json
# and $TEST_TMP/faults.json.
race_fake() {
        {
                echo '{"connectors":['
                chaos_connectors team-keep- 0 "$N_KEEP"
                echo ,
                chaos_connectors other- 0 10 confluence
                echo ,
                chaos_connectors team-orphan-init- 0 5
                echo ']}'
        } >"$TEST_TMP/seed.json"
        cat >"$TEST_TMP/faults.json" <<'JSON'
{"faults": [
  {"method": "GET", "path": "/_connector", "delay_ms": 20},
  {"method": "GET", "path": "/_connector/*", "delay_ms": 40},
  {"method": "DELETE", "path": "/_connector/*", "delay_ms": 20}
]}
JSON
        start_fake --seed "$TEST_TMP/seed.json" --faults "$TEST_TMP/faults.json"
}

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

# check_tree WHAT DIR DECLARED: validates DIR as a folder of manifests, as the daemon reads one
# (--manifests replaces what the config names, a folder or a Git source), which must declare
# DECLARED connectors; records WHAT in $BAD_COMMITS when not.
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

# race_origin: the bare origin $BARE and the publisher $PUB (its remote origin), the fillers (each
# a small set and 20 KB of comments, which the daemon reads and digests all the same), and the
# sets in their first places, the always-declared connectors spread over them: revision 0, the
# whole tree checked, committed and pushed (REV=0). Returns 1 when the commit or the push failed
# ($TEST_TMP/push.err says why).
race_origin() {
        local i k id pad
        g init -q --bare "$BARE"
        g -C "$BARE" symbolic-ref HEAD refs/heads/main
        g init -q "$PUB"
        g -C "$PUB" symbolic-ref HEAD refs/heads/main
        g -C "$PUB" config gc.auto 0
        g -C "$PUB" remote add origin "$BARE"
        mkdir -p "$PUB/filler"
        pad=$(awk 'BEGIN { for (i = 1; i <= 300; i++) printf "# filler, line %03d: here so that reading the tree takes a while\n", i }')
        for i in $(seq 0 $((N_FILLER - 1))); do
                printf -v id 'filler-%05d' "$i"
                write_set "$PUB/filler/$id.yaml" "$id" "$id" --delete-sync-jobs "$id"
                printf '%s\n' "$pad" >>"$PUB/filler/$id.yaml"
        done
        SLOT=()
        OWNER=()
        REV=0
        for k in $(seq 1 "$N_SLOTS"); do slot_path "$k" $((k % 3)); done
        for i in $(seq 0 $((N_KEEP - 1))); do OWNER[i]=$((i % N_SLOTS + 1)); done
        mkdir -p "$STAGE"
        write_slots 0
        check_tree "revision 0, whole" "$PUB" "$TOTAL"
        commit 0
}

# race_clone_host: the host checkout $HOST, a clone of the origin that only fast-forwards and
# never packs or maintains itself on its own. Returns 1 when the clone failed.
race_clone_host() {
        g clone -q "$BARE" "$HOST" || return
        g -C "$HOST" config gc.auto 0
        g -C "$HOST" config maintenance.auto false
        g -C "$HOST" config pull.ff only
}

# publish SEED: until $STOP exists (at most RACE + 30 s), commits and pushes as fast as it can,
# from revision REV + 1 on, its random draws seeded with SEED (the same seed, the same commits).
# Each commit moves one to four always-declared connectors to another set; now and then one
# deletes a set's file (its connectors go to the others), brings one back, or renames one (git mv:
# before or after the fillers, or last). A commit or push that fails is recorded in $BAD_COMMITS.
# Writes how many commits it pushed to $TEST_TMP/commits, and where it left the sets to
# $TEST_TMP/publisher.state (race_stop takes them over: the next race goes on from there).
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
                # file in a state in between, the first declares the moved connectors nowhere,
                # the second twice.
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
# "Cycle started" in $E, so that the checkout changes while a cycle runs far more often than by
# chance (a folder's read lands in the middle of it, a Git source's ref moves between the read and
# the deletes); then a `git pull --ff-only` right after a cycle ended, and the next cycle left
# alone (so that some cycles delete). Writes how many updates ran, how many failed and how many
# were timed on a cycle's start to $TEST_TMP/pulls.
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

# orphans PREFIX: until $STOP exists (at most RACE + 30 s), three new orphans every second, named
# PREFIX, the round (4 digits), "-" and 5 digits. Writes how many rounds ran to
# $TEST_TMP/orphan-rounds.
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

# race_run SEED ORPHAN-PREFIX [pull]: starts the daemon (`run`, configured in $CFG, logging to
# $E), the publisher (publish SEED), the pull loop when the third argument is "pull", and the
# orphan maker (orphans ORPHAN-PREFIX), and lets them race for RACE seconds. Sets DAEMON,
# PUBLISHER, PULLER ("" without pull) and MAKER; the processes are ended on exit with the others.
race_run() {
        rm -f "$STOP"
        "$RECONCILER" --log-target console -v -c "$CFG" run 2>"$E" &
        DAEMON=$!
        publish "$1" &
        PUBLISHER=$!
        PULLER=
        if [ "$3" = pull ]; then
                pull &
                PULLER=$!
        fi
        orphans "$2" &
        MAKER=$!
        TEST_PIDS="$TEST_PIDS $DAEMON $PUBLISHER $PULLER $MAKER"
        sleep "$RACE"
}

# race_stop WHAT: tells the publisher, the pull loop and the orphan maker to stop and waits (at
# most 60 s each) for them (the daemon runs on); sets RACE_LINES and RACE_DELETED, and takes over
# where the publisher left the sets (SLOT, OWNER, REV).
race_stop() {
        touch "$STOP"
        wait_exit "$PUBLISHER" 60 "${1}the publisher, once told to stop"
        [ -z "$PULLER" ] || wait_exit "$PULLER" 60 "${1}the pull loop, once told to stop"
        wait_exit "$MAKER" 60 "${1}the orphan maker, once told to stop"
        RACE_LINES=$(wc -l <"$E")
        # shellcheck disable=SC2034 # (for the test)
        RACE_DELETED=$(deleted_ids | grep -c '^team-orphan-')
        # shellcheck disable=SC1091 # (written by publish)
        . "$TEST_TMP/publisher.state"
}

# race_settled PATTERN: no orphan is left in the cluster, and a line the daemon logged in $E since
# the race stopped matches the basic regex PATTERN (a predicate for wait_for).
race_settled() {
        [ "$(chaos_state_live | grep -c '^team-orphan-')" -eq 0 ] &&
                tail -n +"$((RACE_LINES + 1))" "$E" | grep -q "$1"
}

# race_check_deletes WHAT: three tests: every commit is valid and declares all $TOTAL connectors
# (the first lines of $BAD_COMMITS shown when not), no always-declared connector ever received a
# DELETE (the first ones shown when one did), nor any unmanaged one.
race_check_deletes() {
        [ -s "$BAD_COMMITS" ] && chaos_diag_file "$BAD_COMMITS" 3
        is "$(wc -l 2>/dev/null <"$BAD_COMMITS" || echo 0)" 0 \
                "${1}every commit is valid and declares all $TOTAL connectors"
        is "$(chaos_deletes_of team-keep- | wc -l)" 0 \
                "${1}no always-declared connector ever received a DELETE"
        [ -n "$(chaos_deletes_of team-keep-)" ] &&
                diag "DELETEd: $(chaos_deletes_of team-keep- | sort -u | head -n 5 | tr '\n' ' ')"
        is "$(chaos_deletes_of other- | wc -l)" 0 "${1}nor any unmanaged connector"
}

# race_check_cluster WHAT: four tests: every always-declared connector is still there, and every
# unmanaged one; every backup in $B parses and names its connector (the bad ones shown); every
# connector the reconciler deleted has a backup.
race_check_cluster() {
        is "$(chaos_state_live | grep -c '^team-keep-')" "$N_KEEP" \
                "${1}every always-declared connector is still there"
        is "$(chaos_state_live | grep -c '^other-')" 10 "${1}and every unmanaged one"
        chaos_check_backups "$B" >"$TEST_TMP/bad-backups"
        ok $? "${1}every backup parses and names its connector ($CHAOS_BACKUPS files)"
        chaos_diag_file "$TEST_TMP/bad-backups"
        is "$(chaos_unbacked "$B" | head -n 5)" "" \
                "${1}every connector the reconciler deleted has a backup"
}

#!/bin/bash
# No backup, no delete. A missing backup_dir is created (mode 0700, parents too) and each backup
# is the cluster's document, mode 0600, whatever the umask. A backup_dir that cannot take a
# backup (a file in the way, a read-only mount, an immutable folder, a full file system) means no
# DELETE at all, exit 1, and an error naming the folder and the cause; a failed write leaves no
# partial file behind. The read-only and full cases run in a private mount namespace
# (unshare -m); each case the machine cannot do is a TAP skip saying why.
. "$top_srcdir/tests/hygiene/common.sh"

command -v jq >/dev/null || skip_all "jq is missing"

seed_team_a "$TEST_TMP/seed.json"
team_a_manifest
start_fake --seed "$TEST_TMP/seed.json"

skip() {  # skip COUNT REASON: COUNT skipped tests
        for _ in $(seq "$1"); do
                TAP_N=$((TAP_N + 1))
                echo "ok $TAP_N # SKIP $2"
        done
}

# backup_config DIR: the config with backup_dir DIR; the fake's connectors restored (the 9.x
# default soft-deletes, so a second cycle would find nothing to delete) and its log emptied, and
# the state folder too (connectors deleted and back again would be protected).
backup_config() {
        rm -rf "$TEST_TMP/state"
        write_config "$CFG"
        sed -i "s|^backup_dir: .*|backup_dir: $1|" "$CFG"
        fake_control DELETE /_fake/connectors >/dev/null
        fake_control POST /_fake/connectors "$(cat "$TEST_TMP/seed.json")" >/dev/null
        : >"$FAKE_LOG"
}

deletes() {
        fake_requests 'select(.method == "DELETE")' | wc -l
}

# refused DESCRIPTION DIR CAUSE: the last cycle deleted nothing because of DIR, and said so.
refused() {
        is "$RC" 1 "$1: exit 1"
        is "$(deletes)" 0 "$1: no DELETE was sent"
        grep -F "'$2'" "$ERR" | grep -qF "$3"
        ok $? "$1: the error names the folder and says '$3'"
        grep -q "deleting nothing\|not deleting it" "$ERR"
        ok $? "$1: and that nothing was deleted"
}

# ---- A missing backup_dir is created, 0700, and the backups are 0600, also under umask 000.
dir="$TEST_TMP/state/lib/deleted"
backup_config "$dir"
(umask 000 && reconcile -c "$CFG" once && echo "$RC" >"$TEST_TMP/rc")
RC=$(cat "$TEST_TMP/rc")
is "$RC" 0 "a missing backup_dir: the cycle runs (umask 000)"
is "$(stat -c %a "$dir")" 700 "backup_dir is created with mode 0700"
is "$(stat -c %a "$TEST_TMP/state" "$TEST_TMP/state/lib" | sort -u)" 700 "its missing parents too"
is "$(find "$dir" -mindepth 1 -printf '%m\n' | sort -u)" 600 "every backup has mode 0600"
is "$(find "$dir" -mindepth 1 -type f | wc -l)" 2 "one backup for each of the two deletions"
for id in team-a-old team-a-legacy; do
        f=$(ls "$dir/$id".*.json 2>/dev/null)
        want=$(jq -c --arg id "$id" '.connectors[] | select(.id == $id)' "$TEST_TMP/seed.json")
        is "$(jq -c '.document | del(.deleted)' "$f" 2>/dev/null)" "$(echo "$want" | jq -c 'del(.deleted)')" \
                "the backup of '$id' holds the document the cluster returned"
done
is "$(find "$dir" -name '.*' | wc -l)" 0 "no temporary file is left"
is "$(deletes)" 2 "both orphans were deleted"

# ---- A file where the folder should be.
: >"$TEST_TMP/a-file"
backup_config "$TEST_TMP/a-file/deleted"
reconcile -c "$CFG" once
refused "a file in the way" "$TEST_TMP/a-file/deleted" "Not a directory"

# ---- Not writable: as root, a read-only bind mount (a private mount namespace) or chattr +i;
# as another user, mode 0500.
dir="$TEST_TMP/readonly"
mkdir -m 700 "$dir"
backup_config "$dir"
ro=no
unshare -m --propagation private sh -c 'mount --bind -o ro "$1" "$1" && ! touch "$1/probe"' sh "$dir" \
        2>/dev/null && ro=yes
rm -f "$dir/probe"
if [ "$ro" = yes ]; then
        unshare -m --propagation private sh -c 'mount --bind -o ro "$1" "$1" && shift && exec "$@"' sh "$dir" \
                timeout -k 5 60 "$RECONCILER" --log-target console -c "$CFG" once >"$OUT" 2>"$ERR"
        RC=$?
        refused "a read-only backup_dir (bind mount)" "$dir" "Read-only file system"
else
        skip 4 "no read-only bind mount here (unshare -m needs root)"
fi

dir="$TEST_TMP/immutable"
mkdir -m 700 "$dir"
backup_config "$dir"
if [ "$(id -u)" = 0 ] && chattr +i "$dir" 2>/dev/null; then
        trap 'chattr -i "$TEST_TMP/immutable" 2>/dev/null; cleanup_test' EXIT
        reconcile -c "$CFG" once
        chattr -i "$dir"
        refused "an immutable backup_dir (chattr +i)" "$dir" "Operation not permitted"
elif [ "$(id -u)" != 0 ]; then
        chmod 500 "$dir"
        reconcile -c "$CFG" once
        chmod 700 "$dir"
        refused "a backup_dir of mode 0500" "$dir" "Permission denied"
else
        skip 4 "chattr +i does not work on this file system"
fi

# ---- Full: a small tmpfs, filled, in a private mount namespace. The listing of the folder after
# the cycle is taken inside the namespace.
dir="$TEST_TMP/full"
mkdir -m 700 "$dir"
backup_config "$dir"
cat >"$TEST_TMP/full.sh" <<'SH'
dir=$1 listing=$2
shift 2
mount -t tmpfs -o size=16k,mode=0700 hygiene-full "$dir" || exit 97
dd if=/dev/zero of="$dir/filler" bs=4096 2>/dev/null
[ -s "$dir/filler" ] || exit 97
timeout -k 5 60 "$@"
rc=$?
ls -A "$dir" >"$listing"
exit $rc
SH
if unshare -m --propagation private sh -c 'mount -t tmpfs -o size=16k hygiene-probe "$1"' sh "$dir" 2>/dev/null; then
        unshare -m --propagation private sh "$TEST_TMP/full.sh" "$dir" "$TEST_TMP/full.listing" \
                "$RECONCILER" --log-target console -c "$CFG" once >"$OUT" 2>"$ERR"
        RC=$?
        [ "$RC" != 97 ]; ok $? "a 16 KiB tmpfs is mounted on backup_dir and filled"
        refused "a full backup_dir" "$dir" "No space left on device"
        is "$(cat "$TEST_TMP/full.listing" 2>/dev/null)" "filler" "nothing but the filler is left in the full folder"
else
        skip 6 "no private mount namespace with a tmpfs here (unshare -m needs root)"
fi

stop_fake
tap_done

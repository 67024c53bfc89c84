#!/bin/bash
# Manifests read from a commit of a Git repository (manifests.git in connector-reconciler.yaml(5)):
# a local checkout and a bare repository read in place, a remote fetched over git:// and over
# https with a token into a mirror. What reaches the fake cluster, what is deleted and kept, the
# revision in the plan, the log and the backups, failing closed when the fetch fails, --revision,
# a force-push, and a token that never shows.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/git-lib.sh"

# write_git_config GIT [KEY: VALUE]...: $CFG (write_config's) with `manifests` a mapping: git: GIT
# and the keys given, each written under it.
write_git_config() {
        local g=$1 part="$TEST_TMP/manifests-part"
        shift
        write_config "$CFG"
        {
                printf 'manifests:\n  git: %s\n' "$g"
                for l in "$@"; do printf '  %s\n' "$l"; done
        } >"$part"
        awk -v part="$part" '/^manifests: /{ while ((getline l < part) > 0) print l; next } { print }' \
                "$CFG" >"$CFG.new" && mv "$CFG.new" "$CFG"
}

set_yaml() {  # set_yaml NAME PREFIX ID...: a ConnectorSet as write_set writes it, on stdout
        local f="$TEST_TMP/set-$RANDOM.yaml"
        write_set "$f" "$@"
        cat "$f"
        rm -f "$f"
}

write_seed "$TEST_TMP/seed.json" "team-a-hr search-a-hr google_drive" "team-a-old search-a-old google_drive" \
        "team-a-wiki search-a-wiki confluence" "other search-other confluence"
start_fake --seed "$TEST_TMP/seed.json"
reset_cluster() {  # the seed again, no request logged, no state, no backup; $CFG follows
        stop_fake
        rm -rf "$TEST_TMP/state" "$B"
        start_fake --seed "$TEST_TMP/seed.json"
        [ ! -f "$CFG" ] || sed -i "s|^  url: .*|  url: $FAKE_URL|" "$CFG"
}

# --- A checkout: the commit is read, never the working tree. ---
git_repo_init "$GIT_ROOT/conn.git" "$TEST_TMP/checkout"
git_commit "$TEST_TMP/checkout" "team a" "sets/team-a.yaml=$(set_yaml team-a team-a- team-a-hr team-a-wiki)" \
        "README.md=not a manifest"
first=$GIT_LAST_COMMIT
# Uncommitted edits that would delete team-a-wiki, and a half-written file: invisible.
set_yaml team-a team-a- team-a-hr >"$TEST_TMP/checkout/sets/team-a.yaml"
printf 'apiVersion: connector-reconciler/v1\nkind: Conn' >"$TEST_TMP/checkout/sets/half.yaml"
write_git_config "$TEST_TMP/checkout" "path: sets"
reconcile -c "$CFG" validate
is "$RC" 0 "validate reads the commit of a checkout: the half-written file in the working tree is not read"
grep -q "of commit $first: 1 file, 1 set, 2 connectors declared: valid" "$OUT"
ok $? "validate names the commit it read"
reconcile -c "$CFG" plan --format json
is "$RC" 0 "plan against a checkout exits 0"
is "$(jq -r .revision "$OUT")" "$first" "the plan's revision is the commit's id"
is "$(jq -c '[.delete[].id]' "$OUT")" '["team-a-old"]' "only the orphan of the commit is to delete"
is "$(jq -c '.manifests.stale' "$OUT")" false "a local repository is never stale"
is "$(jq -c '[.delete[].locations[].file]' "$OUT")" '["sets/team-a.yaml"]' \
        "a location names the file by its path in the repository"
printf 'metrics:\n  textfile: %s\n' "$TEST_TMP/metrics.prom" >>"$CFG"
reconcile -c "$CFG" once
is "$RC" 0 "once against a checkout exits 0"
grep -q "^connector_reconciler_manifests_info{revision=\"$first\"} 1\$" "$TEST_TMP/metrics.prom"
ok $? "the metrics' revision label is the commit"
is "$(deleted_ids | tr '\n' ' ')" "team-a-old " "once deletes the commit's orphan, not what the working tree would"
grep -q "; manifests at ${first:0:12}" "$ERR"
ok $? "the cycle's end names the revision applied"
f=$(ls "$B"/team-a-old.*.json 2>/dev/null)
is "$(jq -r '.manifests.revision' "$f" 2>/dev/null)" "$first" "the backup records the commit the plan came from"
is "$(cat "$TEST_TMP/state/revision" 2>/dev/null)" "$first" "the state folder records the revision applied"
git -C "$TEST_TMP/checkout" checkout -q -- . && rm -f "$TEST_TMP/checkout/sets/half.yaml"

# --- Another user's repository, read by a user whose $HOME it cannot read, as a service's
# dynamic user reads the operator's checkout: no owner check, no user or system config. ---
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        chmod 755 "$TEST_TMP"
        chmod -R a+rX "$TEST_TMP/checkout"
        mkdir -m 700 "$TEST_TMP/secret-home" "$TEST_TMP/nobody"
        chown 65534:65534 "$TEST_TMP/nobody"
        sed "s|^backup_dir: .*|backup_dir: $TEST_TMP/nobody/b|; s|^state_dir: .*|state_dir: $TEST_TMP/nobody/s|" \
                "$CFG" >"$TEST_TMP/nobody.yaml"
        chmod 644 "$TEST_TMP/nobody.yaml"
        HOME="$TEST_TMP/secret-home" timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$RECONCILER" --log-target console -c "$TEST_TMP/nobody.yaml" validate >"$OUT" 2>"$ERR"
        grep -q "manifest of commit $first: 1 file" "$OUT"
        ok $? "another user reads the commit of root's checkout"
else
        echo "ok $((TAP_N += 1)) # SKIP reading as another user needs root and setpriv"
fi

# --- A bare repository; connectors moved between files in one commit are never deleted. ---
reset_cluster
git_commit "$TEST_TMP/checkout" "split" "sets/team-a.yaml=$(set_yaml team-a team-a- team-a-hr)" \
        "sets/wiki.yaml=$(set_yaml team-a-wiki team-a-wiki team-a-wiki)"
git_push "$TEST_TMP/checkout"
write_git_config "$GIT_ROOT/conn.git" "path: sets"
reconcile -c "$CFG" once
is "$RC" 0 "once against a bare repository exits 0"
is "$(deleted_ids | tr '\n' ' ')" "team-a-old " \
        "team-a-wiki, moved to another file and set in one commit, is kept"

# --- --revision: what a commit or a ref would do, for plan and validate only. ---
reconcile -c "$CFG" plan --format json --revision "$first"
is "$RC" 0 "plan --revision COMMIT exits 0"
is "$(jq -r .revision "$OUT")" "$first" "plan --revision plans from that commit"
git -C "$TEST_TMP/checkout" tag v1 "$first" && git -C "$TEST_TMP/checkout" push -q origin v1
reconcile -c "$CFG" validate --revision v1
grep -q "of commit $first:" "$OUT"
ok $? "validate --revision TAG reads the tag's commit"
reconcile -c "$CFG" once --revision "$first"
is "$RC" 2 "once --revision is refused (exit 2): what is carried out is always manifests.ref"
reconcile -c "$CFG" plan --revision no-such-ref
is "$RC" 2 "plan --revision of an unknown ref: exit 2"
grep -q "no commit 'no-such-ref'" "$ERR"
ok $? "and it says which ref is unknown"
write_config "$CFG"
reconcile -c "$CFG" plan --revision "$first"
is "$RC" 2 "plan --revision with a folder for manifests: exit 2"
grep -q -- "--revision needs the manifests in Git" "$ERR"
ok $? "and it says why"

# --- The ref moves while a cycle runs: right before its first DELETE, nothing is deleted. ---
reset_cluster
write_git_config "$TEST_TMP/checkout" "path: sets"
fake_control POST /_fake/faults '{"faults":[{"method":"GET","path":"/_connector","delay_ms":3000,"count":1}]}' \
        >/dev/null
timeout -k 5 60 "$RECONCILER" --log-target console -c "$CFG" once >"$OUT" 2>"$ERR" &
once_pid=$!
wait_alive "$once_pid" 20 grep -q "files of commit" "$ERR"
before=$(git -C "$TEST_TMP/checkout" rev-parse HEAD)
git_commit "$TEST_TMP/checkout" "during the cycle" "sets/note.yml=# nothing declared here"
wait "$once_pid"
RC=$?
is "$RC" 1 "a cycle whose ref moved while it listed: exit 1 (to retry)"
is "$(deleted_ids | wc -l)" 0 "and nothing is deleted"
grep -q "the manifests' ref moved from $before to $GIT_LAST_COMMIT during this cycle" "$ERR"
ok $? "the log names both commits"
fake_control POST /_fake/faults '{"faults":[]}' >/dev/null
git -C "$TEST_TMP/checkout" reset -q --hard "$before"

# --- Failing closed: a path missing in the commit, a symbolic link in the way. ---
reset_cluster
write_git_config "$GIT_ROOT/conn.git" "path: nowhere"
reconcile -c "$CFG" once
is "$RC" 2 "a path the commit does not hold: exit 2"
is "$(deleted_ids | wc -l)" 0 "and nothing is deleted"
grep -q "no 'nowhere' in commit" "$ERR"
ok $? "the error names the path and the commit"
ln -s team-a.yaml "$TEST_TMP/checkout/sets/link.yaml"
git_commit "$TEST_TMP/checkout" "a link"
git_push "$TEST_TMP/checkout"
write_git_config "$GIT_ROOT/conn.git" "path: sets"
reconcile -c "$CFG" once
is "$RC" 2 "a symbolic link among the manifests: exit 2"
grep -q "'sets/link.yaml' is a symbolic link" "$ERR"
ok $? "the error names the link"
is "$(deleted_ids | wc -l)" 0 "nothing is deleted"
git_commit "$TEST_TMP/checkout" "no link" -sets/link.yaml
git_push "$TEST_TMP/checkout"

# --- manifests.verify: only a head signed by an allowed key is applied. ---
if command -v ssh-keygen >/dev/null; then
        reset_cluster
        ssh-keygen -q -t ed25519 -N '' -C ops -f "$TEST_TMP/signer" &&
                ssh-keygen -q -t ed25519 -N '' -C stranger -f "$TEST_TMP/stranger"
        printf 'ops@example.test namespaces="git" %s\n' "$(cut -d' ' -f1,2 "$TEST_TMP/signer.pub")" \
                >"$TEST_TMP/allowed_signers"
        git -C "$TEST_TMP/checkout" config gpg.format ssh
        git -C "$TEST_TMP/checkout" config user.signingkey "$TEST_TMP/signer"
        git -C "$TEST_TMP/checkout" commit -q -S --allow-empty -m signed
        signed=$(git -C "$TEST_TMP/checkout" rev-parse HEAD)
        write_git_config "$TEST_TMP/checkout" "path: sets" "verify:" "  allowed_signers_file: $TEST_TMP/allowed_signers"
        reconcile -c "$CFG" once
        is "$RC" 0 "a head signed with an allowed key is applied"
        grep -q "Commit $signed is signed by 'ops@example.test' (manifests.verify)" "$ERR"
        ok $? "the log names the signer"
        is "$(deleted_ids | tr '\n' ' ')" "team-a-old " "and its orphan is deleted"
        reset_cluster
        git -C "$TEST_TMP/checkout" commit -q --allow-empty -m unsigned
        reconcile -c "$CFG" once
        is "$RC" 2 "an unsigned head: exit 2"
        is "$(deleted_ids | wc -l)" 0 "and nothing is deleted"
        grep -q "are not from a commit signed as manifests.verify asks, deleting nothing: commit $(git -C "$TEST_TMP/checkout" rev-parse HEAD) is not signed" "$ERR"
        ok $? "the log says the head is not signed"
        reconcile -c "$CFG" validate
        is "$RC" 2 "validate refuses the unsigned head too"
        git -C "$TEST_TMP/checkout" config user.signingkey "$TEST_TMP/stranger"
        git -C "$TEST_TMP/checkout" commit -q -S --allow-empty -m "signed by a stranger"
        reconcile -c "$CFG" once
        is "$RC" 2 "a head signed with a key not allowed: exit 2"
        is "$(deleted_ids | wc -l)" 0 "and nothing is deleted"
        grep -q "does not verify: .*not in '$TEST_TMP/allowed_signers'" "$ERR"
        ok $? "the log says the key is not an allowed one"
        git -C "$TEST_TMP/checkout" reset -q --hard "$signed~1"
        git -C "$TEST_TMP/checkout" config --unset gpg.format
        git -C "$TEST_TMP/checkout" config --unset user.signingkey
else
        for _ in 1 2 3 4 5 6 7 8 9 10 11; do echo "ok $((TAP_N += 1)) # SKIP ssh-keygen is missing"; done
fi

# --- A force-push: the ref moves to a commit that does not descend from the one applied. ---
reset_cluster
write_git_config "$GIT_ROOT/conn.git" "path: sets"
reconcile -c "$CFG" once
applied=$(cat "$TEST_TMP/state/revision" 2>/dev/null)
git -C "$TEST_TMP/checkout" reset -q --hard "$first"
git_commit "$TEST_TMP/checkout" "rewritten" "sets/team-a.yaml=$(set_yaml team-a team-a- team-a-hr team-a-wiki team-a-old)"
git_push "$TEST_TMP/checkout" +HEAD:refs/heads/main
rewritten=$GIT_LAST_COMMIT
reconcile -c "$CFG" once
is "$RC" 0 "a cycle after a force-push runs"
grep -q "moved to $rewritten, which does not descend from $applied" "$ERR"
ok $? "a force-push is a warning naming both commits"

# --- A remote over git://: fetched into a mirror; a failed fetch deletes nothing. ---
reset_cluster
start_git_daemon
git_commit "$TEST_TMP/checkout" "remote" "sets/team-a.yaml=$(set_yaml team-a team-a- team-a-hr team-a-wiki)"
git_push "$TEST_TMP/checkout" +HEAD:refs/heads/main
remote_head=$GIT_LAST_COMMIT
write_git_config "$GIT_DAEMON_URL/conn.git" "path: sets"
reconcile -c "$CFG" plan --format json
is "$RC" 0 "plan fetches a git:// remote"
is "$(jq -r .revision "$OUT")" "$remote_head" "and plans from the remote's HEAD"
ls -d "$TEST_TMP"/state/git/*.git >/dev/null 2>&1
ok $? "the mirror is in the state folder"
git_commit "$TEST_TMP/checkout" "later" "sets/team-a.yaml=$(set_yaml team-a team-a- team-a-hr)"
git_push "$TEST_TMP/checkout"
stop_git_daemon
reconcile -c "$CFG" once
is "$RC" 1 "once when the fetch fails: exit 1"
is "$(deleted_ids | wc -l)" 0 "and nothing is deleted, not even the orphan the last fetched commit shows"
grep -q "Fetching the manifests from '$GIT_DAEMON_URL/conn.git' failed" "$ERR"
ok $? "the failed fetch is logged with the URL"
grep -q "the manifests could not be fetched: deleted nothing" "$ERR"
ok $? "the cycle's end says why nothing was deleted"
reconcile -c "$CFG" plan --format json
is "$(jq -c '[.revision, .manifests.stale]' "$OUT")" "[\"$remote_head\",true]" \
        "plan still shows the last fetched commit, marked stale"
start_git_daemon
write_git_config "$GIT_DAEMON_URL/conn.git" "path: sets"
reconcile -c "$CFG" once
is "$RC" 0 "once when the remote answers again"
is "$(deleted_ids | tr '\n' ' ')" "team-a-old team-a-wiki " "the new commit is applied"

# --- run: a fetch that hangs is stopped at cluster.request_timeout, SIGTERM ends a fetch at
# once, SIGUSR1 starts a cycle that fetches. ---
reset_cluster
start_git_http --stall
write_git_config "$GIT_HTTP_URL/conn.git" "path: sets"
sed -i "s|^  request_timeout: .*|  request_timeout: 1s|" "$CFG"
reconcile -c "$CFG" once
is "$RC" 1 "a fetch from a server that never answers fails the cycle"
grep -q "the fetch took longer than 1 s (cluster.request_timeout): stopped" "$ERR"
ok $? "it is stopped at cluster.request_timeout, and says so"
is "$(deleted_ids | wc -l)" 0 "nothing is deleted"
sed -i "s|^  request_timeout: .*|  request_timeout: 30s|" "$CFG"
"$RECONCILER" --log-target console -c "$CFG" run >"$OUT" 2>"$ERR" &
run_pid=$!
TEST_PIDS="$TEST_PIDS $run_pid"
wait_alive "$run_pid" 10 grep -q "Cycle started" "$ERR"
sleep 0.3
started=$(date +%s%N)
kill -TERM "$run_pid"
wait_exit "$run_pid" 10
RC=$EXIT_STATUS
elapsed=$((($(date +%s%N) - started) / 1000000))
is "$RC" 0 "SIGTERM during a fetch: run exits 0"
ok "$([ "$elapsed" -lt 5000 ]; echo $?)" "within seconds, not at the fetch's timeout (${elapsed} ms)"
gone_fetch() { ! pgrep -f "connector-reconciler.*$CFG" >/dev/null; }
wait_for 5 gone_fetch
ok $? "no fetching child is left behind"
stop_git_http
write_git_config "$GIT_DAEMON_URL/conn.git" "path: sets" "fetch_interval: 1h"
echo "interval: 1h" >>"$CFG"
"$RECONCILER" --log-target console -c "$CFG" run >"$OUT" 2>"$ERR" &
run_pid=$!
TEST_PIDS="$TEST_PIDS $run_pid"
wait_alive "$run_pid" 20 grep -q "^Cycle ended" "$ERR"
git_commit "$TEST_TMP/checkout" "merged" "sets/team-a.yaml=$(set_yaml team-a team-a- team-a-hr)"
git_push "$TEST_TMP/checkout"
kill -USR1 "$run_pid"
wait_alive "$run_pid" 20 grep -q "manifests at ${GIT_LAST_COMMIT:0:12}" "$ERR"
ok $? "SIGUSR1 starts a cycle that fetches the new commit, fetch_interval or not"
kill -TERM "$run_pid"
wait_exit "$run_pid" 10
is "$EXIT_STATUS" 0 "and SIGTERM ends run (exit 0)"

# --- fetch_interval: no fetch until it has passed. ---
write_git_config "$GIT_DAEMON_URL/conn.git" "path: sets" "fetch_interval: 1h"
reconcile -c "$CFG" plan
before=$(grep -c "upload-pack" "$GIT_DAEMON_LOG")
reconcile -c "$CFG" plan
is "$RC" 0 "plan within fetch_interval of the last fetch"
is "$(grep -c "upload-pack" "$GIT_DAEMON_LOG")" "$before" "fetches nothing"

# --- A branch the remote deleted is gone from the mirror too: its ref is unknown, nothing deleted.
git -C "$TEST_TMP/checkout" push -q origin HEAD:refs/heads/feature
write_git_config "$GIT_DAEMON_URL/conn.git" "path: sets" "ref: feature"
reconcile -c "$CFG" plan
is "$RC" 0 "plan of a branch of the remote"
git -C "$TEST_TMP/checkout" push -q origin :refs/heads/feature
reconcile -c "$CFG" once
is "$RC" 2 "once after the remote deleted that branch: exit 2"
grep -q "no commit 'feature'" "$ERR"
ok $? "the fetch pruned it from the mirror, and the log says the ref is unknown"

# --- ssh:// with a key, the host key checked against known_hosts_file: an sshd of the test's own
# (its own config, host key and port on loopback; the host's sshd is never touched). ---
start_sshd() {  # sets SSHD_PORT; 1 when none would start
        local dir="$TEST_TMP/sshd" try
        mkdir -p "$dir" /run/sshd || return 1
        ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$dir/client" ||
                return 1
        cp "$dir/client.pub" "$dir/authorized_keys"
        for try in 1 2 3 4 5 6 7 8 9 10; do
                SSHD_PORT=$((32000 + RANDOM % 20000))
                printf '%s\n' "Port $SSHD_PORT" "ListenAddress 127.0.0.1" "HostKey $dir/host_key" \
                        "AuthorizedKeysFile $dir/authorized_keys" "PasswordAuthentication no" \
                        "KbdInteractiveAuthentication no" "PermitRootLogin prohibit-password" "StrictModes no" \
                        "UsePAM no" "PidFile $dir/sshd.pid" >"$dir/sshd_config"
                /usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log" &
                SSHD_PID=$!
                TEST_PIDS="$TEST_PIDS $SSHD_PID"
                wait_alive "$SSHD_PID" 5 grep -q "Server listening on 127.0.0.1 port $SSHD_PORT" "$dir/sshd.log" &&
                        return 0
        done
        return 1
}
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ]; then
        for _ in 1 2 3 4 5; do
                echo "ok $((TAP_N += 1)) # SKIP no ssh server of our own: needs root and /usr/sbin/sshd (openssh-server)"
        done
elif ! start_sshd; then
        bail_out "sshd did not start on loopback: $(tail -n 3 "$TEST_TMP/sshd/sshd.log" 2>/dev/null)"
else
        reset_cluster
        echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$TEST_TMP/sshd/host_key.pub")" >"$TEST_TMP/known_hosts"
        chmod 600 "$TEST_TMP/sshd/client"
        write_git_config "ssh://root@127.0.0.1:$SSHD_PORT$GIT_ROOT/conn.git" "path: sets" \
                "ssh_key_file: $TEST_TMP/sshd/client" "known_hosts_file: $TEST_TMP/known_hosts"
        reconcile -c "$CFG" plan --format json
        is "$RC" 0 "plan fetches over ssh with the key"
        is "$(jq -r .revision "$OUT")" "$(git -C "$GIT_ROOT/conn.git" rev-parse HEAD)" "and plans from the remote's HEAD"
        grep -q "Accepted publickey for root" "$TEST_TMP/sshd/sshd.log"
        ok $? "the server took the key"
        echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$TEST_TMP/sshd/client.pub")" >"$TEST_TMP/known_hosts"
        reconcile -c "$CFG" once
        is "$RC" 1 "a host key that known_hosts_file does not list: the cycle fails"
        grep -q "the host key of '\[127.0.0.1\]:$SSHD_PORT' (ssh-ed25519) is not in '$TEST_TMP/known_hosts'" "$ERR"
        ok $? "and says whose host key is unknown"
        stop_pid "$SSHD_PID" 5 sshd
fi

# --- https with a token; a wrong token never shows. ---
reset_cluster
start_git_https --token-file "$GIT_TOKEN_FILE"
# By name: the TLS library of Debian's libgit2 (mbed TLS) checks a certificate's names, never its
# IP addresses.
https_url=$GIT_HTTPS_LOCALHOST_URL
write_config "$CFG"
wrong="wrong-token-$RANDOM$RANDOM"
printf '%s\n' "$wrong" >"$TEST_TMP/wrong-token"
chmod 600 "$GIT_TOKEN_FILE" "$TEST_TMP/wrong-token"
write_git_config "$https_url/conn.git" "path: sets" "token_file: $GIT_TOKEN_FILE"
sed -i "s|^cluster:|cluster:\n  ca_file: $GIT_TLS_CA|" "$CFG"
reconcile -c "$CFG" plan --format json
is "$RC" 0 "plan fetches over https with the token"
is "$(jq -r .revision "$OUT")" "$(git -C "$TEST_TMP/checkout" rev-parse HEAD)" "and plans from the remote's HEAD"
grep -q "auth=ok" "$GIT_HTTPS_LOG"
ok $? "the server saw the token"
# The proxy rule of the cluster: the environment's proxies are ignored, cluster.proxy is used.
http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
        ALL_PROXY=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9 reconcile -c "$CFG" plan
is "$RC" 0 "with every proxy variable pointing nowhere, the fetch still goes straight to the server"
sed -i "s|^cluster:|cluster:\n  proxy: http://127.0.0.1:9|" "$CFG"
reconcile -c "$CFG" plan
is "$RC" 1 "with cluster.proxy pointing nowhere, the fetch fails: it went to the proxy"
grep -q "Fetching the manifests from '$https_url/conn.git' failed" "$ERR"
ok $? "and the failed fetch is what the log says"
sed -i "/^  proxy: /d" "$CFG"
sed -i "s|token_file: .*|token_file: $TEST_TMP/wrong-token|" "$CFG"
reconcile -c "$CFG" -v once
is "$RC" 1 "a refused token: exit 1"
is "$(deleted_ids | wc -l)" 0 "nothing is deleted"
grep -q "auth=bad" "$GIT_HTTPS_LOG"
ok $? "the server refused the token"
! grep -rqF -- "$wrong" "$OUT" "$ERR" "$TEST_TMP/state" "$GIT_HTTPS_LOG"
ok $? "the wrong token is in no output, no log and no state file"
! grep -rqF -- "$GIT_TOKEN" "$OUT" "$ERR" "$TEST_TMP/state" "$GIT_HTTPS_LOG"
ok $? "nor is the right one"
sed -i "s|^  ca_file: .*||" "$CFG"
sed -i "s|token_file: .*|token_file: $GIT_TOKEN_FILE|" "$CFG"
reconcile -c "$CFG" plan
is "$RC" 1 "an https server the CAs do not vouch for: the plan fails"
grep -q "failed: the server's certificate is not trusted" "$ERR"
ok $? "and says it is the certificate"

tap_done

#!/bin/bash
# The Git test equipment itself (tests/git-lib.sh, tests/git-http-server.py), checked with the git
# command line: clones over git://, http:// and https://; the token asked for over HTTPS (right,
# wrong, none; never logged); chunked request bodies; a commit pushed over the file system seen by
# fetches over each server; a stalled server makes git time out; a failing one makes it fail.
. "$top_srcdir/tests/lib.sh"

command -v git >/dev/null || skip_all "git is missing"
command -v python3 >/dev/null || skip_all "python3 is missing"
command -v openssl >/dev/null || skip_all "openssl is missing"
. "$top_srcdir/tests/git-lib.sh"

# lines_after N FILE: the lines of FILE after its first N.
lines_after() {
        tail -n +"$(($1 + 1))" "$2"
}

# ---- A repository with one commit
git_repo_init "$GIT_ROOT/repo.git" && work=$GIT_CHECKOUT &&
        git_commit "$work" "first" "manifests/a.yaml=a: 1" "README=hello" && git_push "$work"
ok $? "a bare repository and a checkout are made, with one commit pushed"
first=$GIT_LAST_COMMIT
is "$(git --git-dir="$GIT_ROOT/repo.git" rev-parse main 2>&1)" "$first" \
        "the bare repository's main is that commit"
is "$(git -C "$work" log -1 --format='%an <%ae> %ad' --date=unix)" \
        "Test Author <author@example.test> 1700000060" "with the fixed author and date"

# ---- git://
start_git_daemon
git_client clone -q "$GIT_DAEMON_URL/repo.git" "$TEST_TMP/c-daemon"
is "$RC" 0 "clone over git:// succeeds"
is "$(cat "$TEST_TMP/c-daemon/README" 2>&1)" hello "with the files of the commit"
grep -q "Request upload-pack for '/repo.git'" "$GIT_DAEMON_LOG"
ok $? "git daemon logs the request"

# ---- https:// with the token
start_git_https --token-file "$GIT_TOKEN_FILE"
git_client clone -q "$(git_auth_url "$GIT_HTTPS_URL/repo.git")" "$TEST_TMP/c-https"
is "$RC" 0 "clone over https with the token in the URL succeeds"
is "$(git -C "$TEST_TMP/c-https" rev-parse HEAD 2>&1)" "$first" "and checks out the commit"
grep -qx "GET /repo.git/info/refs?service=git-upload-pack 200 auth=ok" "$GIT_HTTPS_LOG" &&
        grep -qx "POST /repo.git/git-upload-pack 200 auth=ok" "$GIT_HTTPS_LOG"
ok $? "the server logs the authenticated GET and POST"

git_client ls-remote "$(git_auth_url "$GIT_HTTPS_LOCALHOST_URL/repo.git")" refs/heads/main
is "$RC:$(cat "$OUT")" "0:$first	refs/heads/main" "the certificate is good for https://localhost too"

header="Authorization: Basic $(printf 'x:%s' "$GIT_TOKEN" | base64 -w0)"
git_client -c http.extraHeader="$header" ls-remote "$GIT_HTTPS_URL/repo.git" refs/heads/main
is "$RC:$(cat "$OUT")" "0:$first	refs/heads/main" "ls-remote with the token in http.extraHeader lists main"

n=$(wc -l <"$GIT_HTTPS_LOG")
git_client ls-remote "$(git_auth_url "$GIT_HTTPS_URL/repo.git" wrong-token)"
[ "$RC" -ne 0 ] && grep -q "Authentication failed" "$ERR"
ok $? "a wrong token fails (git: Authentication failed)"
lines_after "$n" "$GIT_HTTPS_LOG" | grep -q " 401 auth=bad$"
ok $? "the server logs a 401 with auth=bad"

n=$(wc -l <"$GIT_HTTPS_LOG")
git_client ls-remote "$GIT_HTTPS_URL/repo.git"
[ "$RC" -ne 0 ]
ok $? "no token fails"
lines_after "$n" "$GIT_HTTPS_LOG" | grep -q " 401 auth=none$"
ok $? "the server logs a 401 with auth=none"

status=$(curl -sS --cacert "$GIT_TLS_CA" --max-time "$CURL_MAX_TIME" -o /dev/null -D "$HTTP_HEADERS" \
        -w '%{http_code}' "$GIT_HTTPS_URL/repo.git/info/refs?service=git-upload-pack")
is "$status:$(grep -i '^WWW-Authenticate:' "$HTTP_HEADERS" | tr -d '\r')" \
        '401:WWW-Authenticate: Basic realm="git"' "without a token: 401 and a Basic challenge"

! grep -qF -e "$GIT_TOKEN" -e "$(printf 'x:%s' "$GIT_TOKEN" | base64 -w0)" \
        -e "$(printf 'git:%s' "$GIT_TOKEN" | base64 -w0)" "$GIT_HTTPS_LOG"
ok $? "the log never holds the token"

# ---- http:// without a token
start_git_http
git_client clone -q "$GIT_HTTP_URL/repo.git" "$TEST_TMP/c-http"
is "$RC:$(git -C "$TEST_TMP/c-http" rev-parse HEAD 2>&1)" "0:$first" "clone over plain http succeeds"
grep -qx "POST /repo.git/git-upload-pack 200 auth=none" "$GIT_HTTP_LOG"
ok $? "the plain server logs auth=none"

# ---- A commit pushed over the file system is seen over each server
git_commit "$work" "second" "manifests/b.yaml=b: 2" "-README" && git_push "$work"
ok $? "a second commit is pushed over the file system"
second=$GIT_LAST_COMMIT
for c in daemon https http; do
        git_client -C "$TEST_TMP/c-$c" fetch -q origin
        is "$RC:$(git -C "$TEST_TMP/c-$c" rev-parse origin/main 2>&1)" "0:$second" "a fetch over $c sees it"
done

# ---- Chunked request bodies: a push of an incompressible 300 kB file over https, more than git's
# post buffer (made as small as it goes), so git streams the pack with Transfer-Encoding: chunked.
head -c 300000 /dev/urandom >"$work/blob.bin" && git_commit "$work" "big"
GIT_TRACE_CURL=1 git_client -C "$work" -c http.postBuffer=65536 push -q \
        "$(git_auth_url "$GIT_HTTPS_URL/repo.git")" HEAD:refs/heads/big
is "$RC" 0 "a push over https succeeds"
grep -q "Send header: Transfer-Encoding: chunked" "$ERR"
ok $? "git sent a chunked request body"
is "$(git --git-dir="$GIT_ROOT/repo.git" rev-parse big 2>&1)" "$GIT_LAST_COMMIT" \
        "the bare repository has the pushed commit"

# ---- A stalled server: git waits until killed
start_git_https --stall
GIT_SSL_CAINFO=$GIT_TLS_CA timeout 5 git ls-remote "$GIT_HTTPS_URL/repo.git" >/dev/null 2>&1
is "$?" 124 "ls-remote against a stalled server times out"
grep -qx "GET /repo.git/info/refs?service=git-upload-pack stall auth=none" "$GIT_HTTPS_LOG"
ok $? "the stalled server read the request"
stop_git_https
is "$?" 0 "the stalled server stops on SIGTERM"

# ---- A failing server
start_git_https --fail-status 500
git_client ls-remote "$(git_auth_url "$GIT_HTTPS_URL/repo.git")"
[ "$RC" -ne 0 ] && grep -q 500 "$ERR"
ok $? "ls-remote against a server answering 500 fails, naming the status"
grep -qx "GET /repo.git/info/refs?service=git-upload-pack 500 auth=none" "$GIT_HTTPS_LOG"
ok $? "the failing server logs the 500"

tap_done

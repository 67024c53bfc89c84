# Git test equipment: bare repositories with checkouts to commit in, and servers for them on
# loopback (git daemon for git://, tests/git-http-server.py for http:// and https://). Source it after
# tests/lib.sh: . "$top_srcdir/tests/git-lib.sh". Needs git and python3 (openssl for HTTPS).
#
# Sourcing it makes git hermetic for the whole test: HOME is an empty folder in $TEST_TMP (no
# ~/.gitconfig, nothing written to the real home; libgit2 reads HOME too), GIT_CONFIG_NOSYSTEM=1,
# no credential prompts (GIT_TERMINAL_PROMPT=0), and a fixed author and committer. Every server
# serves the bare repositories under $GIT_ROOT, so "$GIT_ROOT/NAME.git" is "$GIT_..._URL/NAME.git".

# shellcheck disable=SC2034 # (the variables set here are for the tests that source this file)
[ -n "$TEST_GIT_LIB_LOADED" ] && return 0
TEST_GIT_LIB_LOADED=1

export HOME="$TEST_TMP/git-home" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL=author@example.test
export GIT_COMMITTER_NAME="Test Committer" GIT_COMMITTER_EMAIL=committer@example.test
unset XDG_CONFIG_HOME GIT_ASKPASS SSH_ASKPASS GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_SSL_CAINFO
mkdir -p "$HOME"

GIT_ROOT="$TEST_TMP/git-root"
mkdir -p "$GIT_ROOT"

# The token git-http-server.py asks for when started with --token-file "$GIT_TOKEN_FILE" (the file
# ends with a newline, which is not part of the token).
GIT_TOKEN="git-test-token-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
GIT_TOKEN_FILE="$TEST_TMP/git-token"
printf '%s\n' "$GIT_TOKEN" >"$GIT_TOKEN_FILE"

GIT_COMMIT_N=0
GIT_SERVER_N=0

# ---- Repositories ----

# git_repo_init BARE [CHECKOUT]: makes the bare repository BARE (usually "$GIT_ROOT/NAME.git"), with
# main as its default branch, and a checkout CHECKOUT of it (default $TEST_TMP/git-work/NAME),
# whose origin is BARE. Sets GIT_CHECKOUT to the checkout's path.
git_repo_init() {
        local bare=$1 work=${2:-$TEST_TMP/git-work/$(basename "$1" .git)}
        git init -q --bare -b main "$bare" &&
                git init -q -b main "$work" &&
                git -C "$work" remote add origin "$bare" || return 1
        GIT_CHECKOUT=$work
}

# git_commit CHECKOUT MESSAGE [PATH=CONTENT | -PATH]...: writes each PATH of the checkout with
# CONTENT and a newline (folders made as needed), removes each -PATH, and commits everything the
# checkout holds (git add -A; a commit is made even when nothing changed). Dates are fixed: one
# minute after the last commit of the test. Sets GIT_LAST_COMMIT to the new commit's id.
git_commit() {
        local work=$1 msg=$2 spec path date
        shift 2
        for spec in "$@"; do
                case $spec in
                -?*) rm -rf -- "${work:?}/${spec#-}" ;;
                ?*=*)
                        path=$work/${spec%%=*}
                        mkdir -p -- "$(dirname -- "$path")" && printf '%s\n' "${spec#*=}" >"$path" || return 1
                        ;;
                *) echo "git_commit: $spec: neither PATH=CONTENT nor -PATH" >&2; return 1 ;;
                esac
        done
        GIT_COMMIT_N=$((GIT_COMMIT_N + 1))
        date="$((1700000000 + GIT_COMMIT_N * 60)) +0000"
        git -C "$work" add -A &&
                GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
                        git -C "$work" commit -q --allow-empty -m "$msg" || return 1
        GIT_LAST_COMMIT=$(git -C "$work" rev-parse HEAD)
}

# git_push CHECKOUT [REFSPEC]: pushes to the bare repository over the file system; REFSPEC
# defaults to HEAD:refs/heads/main ("+HEAD:refs/heads/main" rewrites history).
git_push() {
        timeout -k 5 60 git -C "$1" push -q origin "${2:-HEAD:refs/heads/main}"
}

# ---- Clients ----

# git_client ARGS...: runs git (bounded: killed after 60 s), trusting the test CA when there is one
# (GIT_SSL_CAINFO); sets RC, leaves stdout in $OUT and stderr in $ERR (as reconcile does).
git_client() {
        if [ -n "${GIT_TLS_CA:-}" ]; then
                GIT_SSL_CAINFO=$GIT_TLS_CA timeout -k 5 60 git "$@" >"$OUT" 2>"$ERR"
        else
                timeout -k 5 60 git "$@" >"$OUT" 2>"$ERR"
        fi
        RC=$?
}

# git_auth_url URL [TOKEN]: URL with basic-auth credentials in it, user "git", password TOKEN
# (default $GIT_TOKEN): https://127.0.0.1:P/r.git -> https://git:TOKEN@127.0.0.1:P/r.git
git_auth_url() {
        printf '%s\n' "${1%%://*}://git:${2-$GIT_TOKEN}@${1#*://}"
}

# ---- Servers ----

# git_tls_setup: makes (once) a CA and a server certificate it signs, for 127.0.0.1 and localhost,
# in $TEST_TMP/git-tls. Sets GIT_TLS_CA, GIT_TLS_CERT, GIT_TLS_KEY (PEM files). start_git_https
# calls it.
git_tls_setup() {
        [ -n "${GIT_TLS_CA:-}" ] && return 0
        local d=$TEST_TMP/git-tls
        local ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        mkdir -p "$d"
        # shellcheck disable=SC2086
        openssl req -x509 $ec -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj "/CN=Git Test CA" 2>/dev/null &&
                openssl req $ec -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null &&
                printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n%s\n' \
                        'extendedKeyUsage=serverAuth' >"$d/server.ext" &&
                openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -set_serial 1 -days 2 \
                        -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null || return 1
        GIT_TLS_CA=$d/ca.pem GIT_TLS_CERT=$d/server.pem GIT_TLS_KEY=$d/server.key
}

# start_git_daemon [GIT-DAEMON-OPTION...]: git daemon serving $GIT_ROOT (every repository exported)
# on a free loopback port, found by trying random ones; waits (at most 10 s each) until it listens.
# Sets GIT_DAEMON_URL (git://127.0.0.1:P), GIT_DAEMON_PORT, GIT_DAEMON_PID and GIT_DAEMON_LOG (its
# --verbose log: "Request upload-pack for '/NAME.git'" lines). Ended on exit like the others; a
# failed start is a "Bail out!".
start_git_daemon() {
        local try port
        GIT_SERVER_N=$((GIT_SERVER_N + 1))
        GIT_DAEMON_LOG="$TEST_TMP/git-daemon-$GIT_SERVER_N.log"
        for try in 1 2 3 4 5 6 7 8 9 10; do
                port=$((10000 + RANDOM % 22000)) # below Linux's ephemeral ports (32768-60999)
                git daemon --reuseaddr --verbose --informative-errors --export-all --base-path="$GIT_ROOT" \
                        --listen=127.0.0.1 --port="$port" "$@" 2>"$GIT_DAEMON_LOG" &
                GIT_DAEMON_PID=$!
                TEST_PIDS="$TEST_PIDS $GIT_DAEMON_PID"
                if wait_alive "$GIT_DAEMON_PID" 10 grep -q 'Ready to rumble' "$GIT_DAEMON_LOG"; then
                        GIT_DAEMON_PORT=$port
                        GIT_DAEMON_URL="git://127.0.0.1:$port"
                        return 0
                fi
                gone "$GIT_DAEMON_PID" || bail_out "git daemon did not listen within 10 s"
                wait "$GIT_DAEMON_PID" 2>/dev/null
                forget_pid "$GIT_DAEMON_PID"
                diag "git daemon could not listen on port $port (try $try): $(tail -n 1 "$GIT_DAEMON_LOG")"
        done
        bail_out "git daemon did not start: $(head -c 500 "$GIT_DAEMON_LOG" | tr '\n' ' ')"
}

# start_git_http [SERVER-OPTION...]: tests/git-http-server.py serving $GIT_ROOT over plain HTTP on a
# free loopback port, with the options given (--token-file "$GIT_TOKEN_FILE", --stall,
# --fail-status N); waits (at most 10 s) until it listens. Sets GIT_HTTP_URL (http://127.0.0.1:P),
# GIT_HTTP_PORT, GIT_HTTP_PID and GIT_HTTP_LOG (its request log: "METHOD PATH STATUS auth=...").
start_git_http() {
        _git_web_start http "$@"
        GIT_HTTP_PORT=$_git_web_port GIT_HTTP_URL=http://127.0.0.1:$_git_web_port
        GIT_HTTP_PID=$_git_web_pid GIT_HTTP_LOG=$_git_web_log
}

# start_git_https [SERVER-OPTION...]: the same over HTTPS, with the certificate of git_tls_setup
# (trust $GIT_TLS_CA). Sets GIT_HTTPS_URL (https://127.0.0.1:P), GIT_HTTPS_LOCALHOST_URL
# (https://localhost:P, the same server), GIT_HTTPS_PORT, GIT_HTTPS_PID and GIT_HTTPS_LOG. Each
# start is a new server: the variables name the one started last.
# libgit2 built with mbedTLS 2 (Debian's 1.5.1) matches no IP-address subjectAltName, so it rejects
# the certificate for https://127.0.0.1 ("Common Name (CN) does not match"): give libgit2
# GIT_HTTPS_LOCALHOST_URL (git's curl takes either).
start_git_https() {
        git_tls_setup || bail_out "could not make the test CA and server certificate (openssl)"
        _git_web_start https --tls-cert "$GIT_TLS_CERT" --tls-key "$GIT_TLS_KEY" "$@"
        GIT_HTTPS_PORT=$_git_web_port GIT_HTTPS_URL=https://127.0.0.1:$_git_web_port
        GIT_HTTPS_LOCALHOST_URL=https://localhost:$_git_web_port
        GIT_HTTPS_PID=$_git_web_pid GIT_HTTPS_LOG=$_git_web_log
}

_git_web_start() {  # _git_web_start NAME SERVER-OPTION...: sets _git_web_port, _git_web_pid, _git_web_log
        local base port_file
        GIT_SERVER_N=$((GIT_SERVER_N + 1))
        base="$TEST_TMP/git-$1-$GIT_SERVER_N"
        shift
        port_file=$base.port _git_web_log=$base.log
        python3 "$top_srcdir/tests/git-http-server.py" --root "$GIT_ROOT" --port-file "$port_file" \
                --log "$_git_web_log" --parent-pid $$ "$@" 2>"$base.err" &
        _git_web_pid=$!
        TEST_PIDS="$TEST_PIDS $_git_web_pid"
        if ! wait_alive "$_git_web_pid" 10 test -s "$port_file"; then
                gone "$_git_web_pid" &&
                        bail_out "git-http-server.py $* did not start: $(head -c 500 "$base.err" | tr '\n' ' ')"
                bail_out "git-http-server.py $* did not listen within 10 s"
        fi
        _git_web_port=$(cat "$port_file")
}

# stop_git_daemon, stop_git_http, stop_git_https: end the server started last of that kind
# (SIGTERM) and wait (at most 10 s) for it; return its exit status (git daemon's is 143).
stop_git_daemon() {
        stop_pid "$GIT_DAEMON_PID" 10 "git daemon (SIGTERM)"
}
stop_git_http() {
        stop_pid "$GIT_HTTP_PID" 10 "git-http-server.py (SIGTERM)"
}
stop_git_https() {
        stop_pid "$GIT_HTTPS_PID" 10 "git-http-server.py over TLS (SIGTERM)"
}

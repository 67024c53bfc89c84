# sdtest: the real systemd (and the real journald) as PID 1 of private pid, mount, uts, ipc,
# cgroup and net namespaces, for tests that need a service manager: Type=notify, the watchdog,
# reload, timers, credentials, the sandbox, the journal. Source it after tests/lib.sh:
#
#   . "$top_srcdir/tests/lib.sh"
#   . "$top_srcdir/tests/sdtest/sdtest.sh"
#   reason=$(sdtest_check) || skip_all "$reason"
#   sdtest_init                                  # a work dir in $TEST_TMP, the base units
#   sdtest_install_unit FILE [NAME]              # a unit, as the namespace will load it
#   sdtest_install_dropin UNIT NAME <<EOF ...    # UNIT.d/NAME.conf from stdin
#   sdtest_install_bin FILE...                   # programs, run inside as /run/sdtest/bin/NAME
#   sdtest_install_etc PATH [MODE] <<EOF ...     # /etc/PATH inside (a writable overlay)
#   sdtest_boot                                  # until systemctl is-system-running says so
#   sdtest_run CMD...                            # CMD inside every namespace (nsenter)
#   sdtest_systemctl ARGS...; sdtest_prop UNIT PROPERTY
#   sdtest_wait_prop UNIT PROPERTY VALUE [SECONDS]
#   sdtest_journal JOURNALCTL-ARGS...            # journalctl --directory on its journal
#   sdtest_wait_journal SECONDS MATCHES...       # until an entry matches
#   sdtest_install_fake_cluster BIN SEED [ARGS]  # the fake cluster, on 127.0.0.1:9200 inside
#   sdtest_start_fake_cluster                    # (after boot) until it listens
#   sdtest_teardown                              # poweroff, copy the journal out; also on exit
#
# Inside, the work dir ($SDTEST_WORK, in $TEST_TMP) is /run/sdtest; /run/sdtest/units is the
# only unit directory; /tmp, /var/{tmp,log,lib,cache} are empty tmpfs; /etc is the host's under
# a tmpfs overlay; the rest of / is the host's, read-only. The network namespace has only its
# own loopback: a server the service must reach (a fake cluster) runs inside too, as a unit.
#
# Safety: nothing here writes the host's /run, /etc, /dev or /proc/sys (see sdtest-boot.sh);
# the only host objects made are a cgroup2 directory and the work dir, both removed; the only
# processes signalled are the ones this file started, by PID. `timeout` and
# `unshare --kill-child` bound the namespace's life even when the test itself is killed.
#
# Needs: root with CAP_SYS_ADMIN in the initial user namespace, a cgroup2 mount (pure or
# hybrid layout), overlayfs, util-linux's unshare, nsenter and setpriv, systemd and journald.
# Resource control does not work inside (no cgroup2 controllers are delegated), nor does D-Bus
# (no dbus-daemon runs; systemctl uses systemd's private socket).

SDTEST_LIFETIME=${SDTEST_LIFETIME:-55} # seconds: the hard bound of one namespace's life
SDTEST_BOOT_SCRIPT="$top_srcdir/tests/sdtest/sdtest-boot.sh"
SDTEST_IN=/run/sdtest # the work dir, as seen inside
SDTEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

SDTEST_WORK=
SDTEST_PID1=
SDTEST_PID1_START=
SDTEST_LAUNCHER=
SDTEST_CGROUP=
SDTEST_SYSTEMD=
SDTEST_HOST_UNITS=
SDTEST_FAKE_LOG=

sdtest_cgroup2_mount() {
        awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts
}

sdtest_locate() {  # sets SDTEST_SYSTEMD and SDTEST_HOST_UNITS (the distribution's unit dir)
        local c
        SDTEST_SYSTEMD=
        SDTEST_HOST_UNITS=
        for c in /lib/systemd/systemd /usr/lib/systemd/systemd; do
                [ -x "$c" ] && SDTEST_SYSTEMD=$c && break
        done
        for c in /lib/systemd/system /usr/lib/systemd/system; do
                [ -f "$c/systemd-journald.service" ] && SDTEST_HOST_UNITS=$c && break
        done
        [ -n "$SDTEST_SYSTEMD" ] && [ -n "$SDTEST_HOST_UNITS" ]
}

sdtest_check() {  # prints why the harness cannot run here and fails, or succeeds silently
        local c cg2 mine
        if [ "$(id -u)" != 0 ]; then
                echo "needs root"
                return 1
        fi
        for c in unshare nsenter setpriv timeout script mount mknod systemctl journalctl awk; do
                if ! command -v "$c" >/dev/null; then
                        echo "needs $c"
                        return 1
                fi
        done
        if ! sdtest_locate; then
                echo "needs systemd and systemd-journald.service"
                return 1
        fi
        cg2=$(sdtest_cgroup2_mount)
        if [ -z "$cg2" ]; then
                echo "needs a cgroup2 mount"
                return 1
        fi
        mine=$(sed -n 's/^0:://p' /proc/self/cgroup)
        if [ ! -w "$cg2$mine" ]; then
                echo "cannot write the cgroup2 directory $cg2$mine"
                return 1
        fi
        if ! grep -qw overlay /proc/filesystems; then
                echo "needs overlayfs"
                return 1
        fi
        if ! unshare --pid --mount --uts --ipc --net --cgroup --fork --kill-child -- true 2>/dev/null; then
                echo "cannot create pid, mount, uts, ipc, net and cgroup namespaces"
                return 1
        fi
        return 0
}

sdtest_write_stub_target() {  # NAME DESCRIPTION [UNIT-SECTION-LINES]
        printf '[Unit]\nDescription=%s\n%s' "$2" "${3:+$3
}" >"$SDTEST_WORK/units/$1"
}

sdtest_init() {  # makes $SDTEST_WORK: base units, settings, the namespace's /etc layer
        local t caps n last
        sdtest_locate || return 1
        SDTEST_WORK="$TEST_TMP/sdtest"
        mkdir -p "$SDTEST_WORK/units" "$SDTEST_WORK/bin" "$SDTEST_WORK/etc" "$SDTEST_WORK/out"
        # Services run under other users (DynamicUser=) must reach /run/sdtest/bin.
        chmod 0755 "$SDTEST_WORK" "$SDTEST_WORK/bin" "$SDTEST_WORK/out"

        # Stub targets: enough for DefaultDependencies= and for the host's own targets to stay
        # out (its sysinit.target would pull in tmpfiles and more that act on the host).
        sdtest_write_stub_target sdtest.target "sdtest default target" \
                "Requires=basic.target
After=basic.target
AllowIsolate=yes"
        sdtest_write_stub_target sysinit.target "System Initialization (sdtest stub)" \
                "Wants=systemd-journald.service local-fs.target
After=local-fs.target"
        sdtest_write_stub_target basic.target "Basic System (sdtest stub)" \
                "Requires=sysinit.target
Wants=sockets.target timers.target paths.target slices.target
After=sysinit.target sockets.target timers.target paths.target slices.target"
        sdtest_write_stub_target sockets.target "Sockets (sdtest stub)" \
                "Wants=systemd-journald.socket systemd-journald-dev-log.socket"
        for t in timers paths slices local-fs local-fs-pre remote-fs swap network network-pre \
                network-online nss-lookup nss-user-lookup time-set time-sync multi-user \
                cryptsetup getty; do
                sdtest_write_stub_target "$t.target" "$t (sdtest stub)"
        done
        # The distribution's shutdown path, so that `systemctl poweroff` ends the namespace.
        for t in shutdown.target umount.target final.target poweroff.target systemd-poweroff.service \
                exit.target systemd-exit.service; do
                cp "$SDTEST_HOST_UNITS/$t" "$SDTEST_WORK/units/$t"
        done
        # journald as the distribution ships it, minus the audit socket.
        cp "$SDTEST_HOST_UNITS/systemd-journald.socket" "$SDTEST_HOST_UNITS/systemd-journald-dev-log.socket" \
                "$SDTEST_WORK/units/"
        sed -e '/^Sockets=/s/ *systemd-journald-audit\.socket//' \
                "$SDTEST_HOST_UNITS/systemd-journald.service" >"$SDTEST_WORK/units/systemd-journald.service"

        # Every service: LeakSanitizer (a build with --enable-sanitizers) needs ptrace, which the
        # system call filter of a sandboxed unit forbids, and would fail each program at exit.
        # Leaks are for the tests that run programs outside a sandbox to find.
        mkdir -p "$SDTEST_WORK/units/service.d"
        cat >"$SDTEST_WORK/units/service.d/50-sdtest.conf" <<'EOF'
[Service]
Environment=ASAN_OPTIONS=detect_leaks=0
EOF

        # Its own host name and machine id, so its journal is told apart from the host's.
        echo sdtest >"$SDTEST_WORK/etc/hostname"
        tr -d '-' </proc/sys/kernel/random/uuid >"$SDTEST_WORK/etc/machine-id"

        cat >"$SDTEST_WORK/system.conf" <<'EOF'
[Manager]
# No core files: the host's core_pattern may pipe them to a host-side helper.
DefaultLimitCORE=0
DefaultTimeoutStartSec=20s
DefaultTimeoutStopSec=10s
EOF
        cat >"$SDTEST_WORK/journald.conf" <<'EOF'
[Journal]
Storage=volatile
RateLimitIntervalSec=0
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
EOF
        echo "$SDTEST_SYSTEMD" >"$SDTEST_WORK/systemd-path"

        # Capabilities that act beyond the namespaces: modules, clock, raw I/O, kernel log, boot,
        # accounting, audit, MAC, BPF, perf, checkpoint/restore (numbers of capability.h, so
        # that an older kernel's shorter list is honoured).
        last=$(cat /proc/sys/kernel/cap_last_cap)
        caps=
        for n in 16 17 20 22 25 29 30 32 33 34 35 36 37 38 39 40; do
                [ "$n" -le "$last" ] && caps="$caps${caps:+,}-cap_$n"
        done
        echo "$caps" >"$SDTEST_WORK/drop-caps"
}

sdtest_install_unit() {  # FILE [NAME]
        cp "$1" "$SDTEST_WORK/units/${2:-$(basename "$1")}"
}

sdtest_install_dropin() {  # UNIT NAME, the drop-in's text on stdin
        mkdir -p "$SDTEST_WORK/units/$1.d"
        cat >"$SDTEST_WORK/units/$1.d/$2.conf"
}

sdtest_install_bin() {  # FILE...: each runs inside as /run/sdtest/bin/NAME
        local f
        for f in "$@"; do
                cp "$f" "$SDTEST_WORK/bin/" && chmod 0755 "$SDTEST_WORK/bin/$(basename "$f")" || return 1
        done
}

sdtest_install_etc() {  # PATH [MODE], the contents on stdin: /etc/PATH inside the namespace
        local mode=${2:-0644}
        if [ -n "$SDTEST_PID1" ]; then
                sdtest_run sh -c 'mkdir -p "$(dirname "$1")" && cat >"$1" && chmod "$2" "$1"' sh \
                        "/etc/$1" "$mode"
        else
                mkdir -p "$(dirname "$SDTEST_WORK/etc/$1")" &&
                        cat >"$SDTEST_WORK/etc/$1" && chmod "$mode" "$SDTEST_WORK/etc/$1"
        fi
}

sdtest_pid_start() {  # PID: its start time (field 22 of /proc/PID/stat), or nothing
        local stat
        stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
        stat=${stat##*) }
        # shellcheck disable=SC2086
        set -- $stat
        [ "$1" = Z ] || echo "${20}"
}

sdtest_pid1_alive() {
        [ -n "$SDTEST_PID1" ] && [ "$(sdtest_pid_start "$SDTEST_PID1")" = "$SDTEST_PID1_START" ]
}

sdtest_is_running() {  # systemctl is-system-running says running (or degraded); sets $state
        [ -e "/proc/$SDTEST_PID1/root/run/systemd/private" ] || return 1
        state=$(sdtest_run systemctl is-system-running 2>/dev/null)
        case $state in
        running | degraded) return 0 ;;
        esac
        return 1
}

sdtest_boot() {  # starts the namespace and waits until systemd reports running
        local cg2 mine state
        cg2=$(sdtest_cgroup2_mount)
        mine=$(sed -n 's/^0:://p' /proc/self/cgroup)
        SDTEST_CGROUP="$cg2${mine%/}/sdtest-$$-$RANDOM"
        mkdir "$SDTEST_CGROUP" || return 1

        # script(1) gives the namespace a pseudo-terminal for /dev/console and logs it. When
        # timeout ends script, unshare loses its terminal and dies, and --kill-child kills PID 1,
        # which takes every process of the pid namespace with it.
        SHELL=/bin/bash timeout -k 5 "$SDTEST_LIFETIME" \
                script --quiet --return --flush --echo never --output-limit 16M --command "$(printf '%q ' \
                        exec unshare --pid --mount --uts --ipc --net --kill-child=SIGKILL --propagation private -- \
                        /bin/bash "$SDTEST_BOOT_SCRIPT" enter "$SDTEST_WORK" "$SDTEST_CGROUP")" \
                "$SDTEST_WORK/console.log" </dev/null >/dev/null 2>&1 &
        SDTEST_LAUNCHER=$!

        if ! wait_alive "$SDTEST_LAUNCHER" 10 test -s "$SDTEST_WORK/pid1"; then
                sdtest_diag_boot "the namespace did not start"
                return 1
        fi
        SDTEST_PID1=$(cat "$SDTEST_WORK/pid1")
        SDTEST_PID1_START=$(sdtest_pid_start "$SDTEST_PID1")

        wait_alive "$SDTEST_PID1" 20 sdtest_is_running && return 0
        sdtest_diag_boot "systemd did not reach running (state '$state')"
        return 1
}

sdtest_diag_boot() {  # MESSAGE: says why, with the end of the console log
        diag "sdtest: $1"
        tr -d '\r' <"$SDTEST_WORK/console.log" | sed 's/^/#   console: /' | tail -n 40
}

sdtest_run() {  # CMD...: runs it inside every namespace of the booted system, clean environment
        sdtest_pid1_alive || return 1
        timeout -k 2 30 nsenter --target "$SDTEST_PID1" --all -- \
                env -i PATH="$SDTEST_PATH" LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

sdtest_systemctl() {
        sdtest_run systemctl "$@"
}

sdtest_prop() {  # UNIT PROPERTY: prints its value
        sdtest_run systemctl show -P "$2" "$1"
}

sdtest_prop_is() {  # UNIT PROPERTY VALUE: the property has the value; sets $got
        got=$(sdtest_prop "$1" "$2")
        [ "$got" = "$3" ]
}

sdtest_wait_prop() {  # UNIT PROPERTY VALUE [SECONDS=10]: until the property has the value
        local got
        wait_alive "$SDTEST_PID1" "${4:-10}" sdtest_prop_is "$1" "$2" "$3" && return 0
        if ! sdtest_pid1_alive; then
                diag "sdtest: PID 1 is gone, $1 $2 is not '$3'"
        else
                diag "sdtest: $1 $2 is '$got' after ${4:-10} s, not '$3'"
        fi
        return 1
}

sdtest_journal_dir() {
        if sdtest_pid1_alive; then
                echo "/proc/$SDTEST_PID1/root/run/log/journal"
        else
                echo "$SDTEST_WORK/journal"
        fi
}

sdtest_journal() {  # JOURNALCTL-ARGS...: the namespace's journal, live or as copied out
        journalctl --directory="$(sdtest_journal_dir)" --no-pager "$@"
}

sdtest_has_entry() {  # MATCHES...: `journalctl -o json MATCHES` prints an entry
        [ -n "$(sdtest_journal -o json "$@" 2>/dev/null)" ]
}

sdtest_wait_journal() {  # SECONDS MATCHES...: until `journalctl -o json MATCHES` prints an entry
        local seconds=$1
        shift
        # Once PID 1 is gone, its journal (copied out or not) gets no new entry.
        wait_alive "$SDTEST_PID1" "$seconds" sdtest_has_entry "$@" && return 0
        diag "sdtest: no journal entry matches '$*' after $seconds s"
        return 1
}

sdtest_teardown() {  # powers the namespace off, copies its journal out, ends what it started
        local i
        [ -n "$SDTEST_LAUNCHER" ] || return 0
        if sdtest_pid1_alive; then
                rm -rf "$SDTEST_WORK/journal"
                cp -r "/proc/$SDTEST_PID1/root/run/log/journal" "$SDTEST_WORK/journal" 2>/dev/null
                sdtest_run systemctl --no-block poweroff >/dev/null 2>&1
                wait_for 10 gone "$SDTEST_PID1"
                if sdtest_pid1_alive; then
                        diag "sdtest: PID 1 ($SDTEST_PID1) still alive 10 s after poweroff, killing it"
                        kill -KILL "$SDTEST_PID1" 2>/dev/null
                fi
        fi
        # unshare, script and timeout end when PID 1 does. Should they not, timeout hands a
        # SIGTERM to its process group (script), whose end takes unshare and PID 1 along.
        wait_for 3 gone "$SDTEST_LAUNCHER" || kill -TERM "$SDTEST_LAUNCHER" 2>/dev/null
        wait_for 2 gone "$SDTEST_LAUNCHER" || kill -KILL "$SDTEST_LAUNCHER"
        wait "$SDTEST_LAUNCHER" 2>/dev/null
        SDTEST_LAUNCHER=
        SDTEST_PID1=
        # The cgroup tree systemd made under ours, leaves first; it empties as the kernel reaps.
        for i in $(seq 50); do
                [ -d "$SDTEST_CGROUP" ] || break
                find "$SDTEST_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
                [ -d "$SDTEST_CGROUP" ] && sleep 0.1
        done
        [ ! -d "$SDTEST_CGROUP" ]
}

sdtest_install_fake_cluster() {  # BIN SEED [ARGS...]: the fake cluster as fake-cluster.service
        # It listens on 127.0.0.1:9200 of the namespace's own loopback, where the services under
        # test reach it; its request log is $SDTEST_FAKE_LOG on the host. ARGS (fake-cluster
        # options, e.g. --api-key KEY) go into the unit as they are: no spaces inside one.
        local bin=$1 seed=$2
        shift 2
        sdtest_install_bin "$bin" || return 1
        mkdir -p "$SDTEST_WORK/fake" && cp "$seed" "$SDTEST_WORK/fake/seed.json" || return 1
        SDTEST_FAKE_LOG="$SDTEST_WORK/out/fake-cluster.log"
        cat >"$SDTEST_WORK/units/fake-cluster.service" <<EOF
[Unit]
Description=Fake Elasticsearch cluster (test equipment)

[Service]
ExecStart=$SDTEST_IN/bin/$(basename "$bin") --port 9200 --port-file $SDTEST_IN/out/fake-cluster.port --seed $SDTEST_IN/fake/seed.json --log $SDTEST_IN/out/fake-cluster.log $*
EOF
}

sdtest_start_fake_cluster() {  # [SECONDS=10]: starts it and waits until it listens
        sdtest_systemctl start fake-cluster.service || return 1
        wait_for "${1:-10}" test -s "$SDTEST_WORK/out/fake-cluster.port" && return 0
        diag "sdtest: the fake cluster wrote no port file in ${1:-10} s"
        sdtest_journal -o cat -u fake-cluster.service | sed 's/^/#   /' | tail -n 20
        return 1
}

sdtest_host_state() {  # what the harness must leave as it found: host-global knobs and folders
        local k
        for k in fs/nr_open fs/file-max net/unix/max_dgram_qlen kernel/hostname kernel/core_pattern; do
                echo "$k=$(cat "/proc/sys/$k")"
        done
        echo "/run: $(ls -A /run | tr '\n' ' ')"
        echo "/run/systemd: $(ls -A /run/systemd 2>/dev/null | tr '\n' ' ')"
        echo "/dev: $(ls -A /dev | tr '\n' ' ')"
        echo "/etc: $(ls -A /etc | tr '\n' ' ')"
}

trap 'sdtest_teardown; cleanup_test' EXIT

#!/bin/bash
# The systemd units as `make install` puts them: the program's path substituted, accepted by
# `systemd-analyze verify` without a warning, the sandbox in place and the same in both services,
# and an exposure of 2.0 or lower ("OK") from `systemd-analyze security`.
. "$top_srcdir/tests/lib.sh"

command -v systemd-analyze >/dev/null || skip_all "needs systemd-analyze"

root="$TEST_TMP/root"
# A test runs inside make; a clean environment keeps the inner make off the outer's jobserver.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -C "$top_builddir" install DESTDIR="$root" \
        >"$TEST_TMP/install.log" 2>&1; then
        sed 's/^/# /' "$TEST_TMP/install.log" | tail -n 30
        echo "Bail out! make install DESTDIR=... failed"
        exit 1
fi
unitdir=$(dirname "$(find "$root" -name connector-reconciler.service -print -quit)")
[ "$unitdir" != . ] || skip_all "configured without a systemd unit directory"

SERVICE="$unitdir/connector-reconciler.service"
ONCE="$unitdir/connector-reconciler-once.service"
TIMER="$unitdir/connector-reconciler-once.timer"
for f in "$SERVICE" "$ONCE" "$TIMER"; do
        [ -f "$f" ]
        ok $? "make install puts $(basename "$f") in the unit directory"
done
[ -n "$(find "$root" -path '*/catalog/connector-reconciler.catalog' -print -quit)" ]
ok $? "make install puts the journal message catalog in the catalog directory"

! grep -n '@[a-z_]*@' "$SERVICE" "$ONCE"
ok $? "no @variable@ is left in the installed services"
for f in "$SERVICE" "$ONCE"; do
        exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$f")
        case $exe in
        /*) [ -x "$root$exe" ] ;;
        *) false ;;
        esac
        ok $? "$(basename "$f") starts the installed program by its absolute path ($exe)"
done
is "$(sed -n 's/^ExecStart=[^ ]* //p' "$SERVICE")" run "the service runs the 'run' command"
is "$(sed -n 's/^ExecStart=[^ ]* //p' "$ONCE")" once "the one-shot service runs the 'once' command"

# verify loads what the units depend on from the same root: give it the distribution's targets
# and the kill(1) of ExecReload=. The man pages are checked where they are built, not here.
hostunits=
for d in /lib/systemd/system /usr/lib/systemd/system; do
        [ -f "$d/multi-user.target" ] && hostunits=$d && break
done
mkdir -p "$root/usr/lib/systemd/system" "$root/bin"
[ -n "$hostunits" ] && cp "$hostunits"/*.target "$root/usr/lib/systemd/system/"
cp "$(type -P kill)" "$root/bin/kill"
# The unit directory may be any (distcheck installs below its prefix): name it to systemd, as a
# path inside the root, ahead of the usual ones.
export SYSTEMD_UNIT_PATH="${unitdir#"$root"}:"
systemd-analyze verify --man=no --root="$root" \
        connector-reconciler.service connector-reconciler-once.service connector-reconciler-once.timer \
        >"$TEST_TMP/verify.log" 2>&1
rc=$?
sed 's/^/# verify: /' "$TEST_TMP/verify.log"
is "$rc/$(wc -c <"$TEST_TMP/verify.log")" 0/0 "systemd-analyze verify accepts the units without a word"

# What each part of the design relies on.
has() {  # FILE LINE...: each line is in the file, exactly
        local f=$1 l
        shift
        for l in "$@"; do
                grep -qxF -- "$l" "$f" || {
                        printf '#   %s lacks %s\n' "$(basename "$f")" "$l"
                        return 1
                }
        done
}
has "$SERVICE" Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' RestartPreventExitStatus=2 \
        Restart=on-failure
ok $? "the service is Type=notify, reloads with SIGHUP, restarts on failure but not on a config error"
grep -Eq '^WatchdogSec=[1-9]' "$SERVICE"
ok $? "the service has a watchdog"
has "$ONCE" Type=oneshot
ok $? "the one-shot service is Type=oneshot"
has "$TIMER" OnCalendar=hourly Persistent=true
ok $? "the timer runs hourly and catches up on a missed run"
for f in "$SERVICE" "$ONCE"; do
        has "$f" LoadCredential=api-key:/etc/connector-reconciler/api-key \
                'StateDirectory=connector-reconciler connector-reconciler/deleted' StateDirectoryMode=0700 \
                ConfigurationDirectory=connector-reconciler DynamicUser=yes UMask=0077 \
                ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes NoNewPrivileges=yes \
                CapabilityBoundingSet= 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
                SystemCallFilter=@system-service 'SystemCallFilter=~@privileged @resources' \
                SystemCallArchitectures=native MemoryDenyWriteExecute=yes
        ok $? "$(basename "$f") has the credential, the state directory and the sandbox"
done
sandbox() {  # FILE: its sandbox block, from its heading comment to the next section
        sed -n '/^# Sandbox:/,/^\[/{/^\[/!p}' "$1"
}
[ -n "$(sandbox "$SERVICE")" ] && [ "$(sandbox "$SERVICE")" = "$(sandbox "$ONCE")" ]
ok $? "both services have the same sandbox"

# The templates (one instance per cluster): installed, accepted for an instance, and the plain
# units line for line but for the instance's description, config, credential and state.
T_SERVICE="$unitdir/connector-reconciler@.service"
T_ONCE="$unitdir/connector-reconciler-once@.service"
T_TIMER="$unitdir/connector-reconciler-once@.timer"
for f in "$T_SERVICE" "$T_ONCE" "$T_TIMER"; do
        [ -f "$f" ]
        ok $? "make install puts the template $(basename "$f") in the unit directory"
done
systemd-analyze verify --man=no --root="$root" \
        connector-reconciler@eu-prod.service connector-reconciler-once@eu-prod.service \
        connector-reconciler-once@eu-prod.timer >"$TEST_TMP/verify-templates.log" 2>&1
rc=$?
sed 's/^/# verify: /' "$TEST_TMP/verify-templates.log"
is "$rc/$(wc -c <"$TEST_TMP/verify-templates.log")" 0/0 "systemd-analyze verify accepts an instance of each template"
body() { sed -n '/^\[Unit\]/,$p' "$1"; }  # FILE: from [Unit] on, without the header comment
is "$(diff <(body "$SERVICE") <(body "$T_SERVICE") | grep '^[<>]' | sed 's|/[^ ]*/connector-reconciler |BIN |' | sort)" \
"< Description=Elasticsearch connector reconciler
< ExecStart=BIN run
< LoadCredential=api-key:/etc/connector-reconciler/api-key
< StateDirectory=connector-reconciler connector-reconciler/deleted
> Description=Elasticsearch connector reconciler (%i)
> ExecStart=BIN -c /etc/connector-reconciler/%i.yaml --instance %i run
> LoadCredential=api-key:/etc/connector-reconciler/%i.api-key
> StateDirectory=connector-reconciler/%i connector-reconciler/%i/deleted" \
        "connector-reconciler@.service is the service but for the instance's config, credential and state"
is "$(diff <(body "$ONCE") <(body "$T_ONCE") | grep -c '^>')" 4 \
        "connector-reconciler-once@.service differs from the one-shot service in the same 4 lines"
is "$(diff <(body "$TIMER") <(body "$T_TIMER") | grep '^>')" \
        "> Description=Elasticsearch connector reconciler, scheduled cycle (%i)" "the timer template differs in its description only"

# systemd-analyze security rates exposure from 0.0 to 10.0; "OK" is 2.0 or lower.
for f in "$SERVICE" "$ONCE" "$unitdir/connector-reconciler@eu-prod.service" "$unitdir/connector-reconciler-once@eu-prod.service"; do
        out=$(systemd-analyze security --offline=true --root="$root" --no-pager "$(basename "$f")" 2>&1)
        level=$(printf '%s\n' "$out" | sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\) .*$/\1/p')
        diag "$(basename "$f"): exposure $level"
        [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'
        ok $? "$(basename "$f") has an exposure of 2.0 or lower (got '$level')"
done

tap_done

#!/bin/bash
# Becomes the real systemd, as PID 1 of the private namespaces that sdtest.sh's sdtest_boot made
# (pid, mount, uts, ipc, net). Not for direct use: sdtest_boot runs it as
#
#   sdtest-boot.sh enter WORK CGROUP   first, still in the host's cgroup namespace: writes its
#                                      host PID to WORK/pid1, moves into CGROUP (a cgroup2
#                                      directory made for this run) and re-executes itself in a
#                                      new cgroup namespace rooted there;
#   sdtest-boot.sh setup WORK          then builds this namespace's file system and execs systemd.
#
# Every mount below happens in this private mount namespace (unshare makes its propagation
# private), and every one passes -n so that libmount writes nothing under the host's /run: the
# host's /run, /etc, /dev and /proc/sys are never written.
set -eu

stage=$1
work=$2

if [ "$stage" = enter ]; then
        cgroup=$3
        # /proc is still the host's here, so this is the PID the host sees (bash opens the file).
        read -r host_pid _ </proc/self/stat
        echo "$host_pid" >"$work/pid1.tmp"
        mv "$work/pid1.tmp" "$work/pid1"
        # Only this process enters the cgroup: systemd then finds no stranger in its tree.
        echo 0 >"$cgroup/cgroup.procs"
        exec unshare --cgroup -- /bin/bash "$0" setup "$work"
fi
[ "$stage" = setup ]

# /run first, before anything could write below the host's /run.
mount -n -t tmpfs -o mode=0755,nosuid,nodev,size=64m sdtest-run /run
mkdir /run/sdtest
mount -n --bind "$work" /run/sdtest

# A fresh /dev: the usual character devices, a private devpts, shm and mqueue, and as console
# the pseudo-terminal that script(1) gave us (it logs to WORK/console.log). No /dev/kmsg, so
# nothing reaches the host's kernel log.
console=$(tty)
dev=/run/.sdtest-dev
mkdir "$dev"
mount -n -t tmpfs -o mode=0755,nosuid,size=1m sdtest-dev "$dev"
mknod -m 0666 "$dev/null" c 1 3
mknod -m 0666 "$dev/zero" c 1 5
mknod -m 0666 "$dev/full" c 1 7
mknod -m 0666 "$dev/random" c 1 8
mknod -m 0666 "$dev/urandom" c 1 9
mknod -m 0666 "$dev/tty" c 5 0
ln -s /proc/self/fd "$dev/fd"
ln -s /proc/self/fd/0 "$dev/stdin"
ln -s /proc/self/fd/1 "$dev/stdout"
ln -s /proc/self/fd/2 "$dev/stderr"
mkdir "$dev/pts" "$dev/shm" "$dev/mqueue"
touch "$dev/console"
mount -n --bind "$console" "$dev/console"
mount -n --move "$dev" /dev
mount -n -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -n -t tmpfs -o mode=1777,nosuid,nodev sdtest-shm /dev/shm
mount -n -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue

# /proc of this pid namespace. Its host-global knobs stay read-only, or PID 1 would raise the
# host's fs.nr_open, fs.file-max and net.unix.max_dgram_qlen.
mount -n -t proc -o nosuid,nodev,noexec proc /proc
for p in /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus; do
        [ -e "$p" ] || continue
        mount -n --bind "$p" "$p"
        mount -n -o remount,bind,ro "$p"
done

# A read-only sysfs of this net namespace, and this cgroup namespace's cgroup2 on top: systemd
# sees a unified hierarchy of its own.
mount -n -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
mount -n -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup

# Writable scratch, empty: services write there and nowhere else. /home and /srv too, so that a
# test can lay out a checkout there without the host's showing through.
for d in /tmp /var/tmp; do
        mount -n -t tmpfs -o mode=1777,nosuid,nodev sdtest-tmp "$d"
done
for d in /var/log /var/lib /var/cache /home /srv; do
        [ -d "$d" ] || continue
        mount -n -t tmpfs -o mode=0755,nosuid,nodev sdtest-var "$d"
done

# /etc: the host's, under a writable overlay whose upper layer lives in this namespace's /run,
# pre-filled from WORK/etc (hostname, machine-id, configs the test placed there). Units may use
# ConfigurationDirectory= and tests may write config files; the host's /etc is the lower layer
# and never written.
mkdir -p /run/.sdtest-etc/upper /run/.sdtest-etc/work
cp -a /run/sdtest/etc/. /run/.sdtest-etc/upper/
mount -n -t overlay -o lowerdir=/etc,upperdir=/run/.sdtest-etc/upper,workdir=/run/.sdtest-etc/work \
        sdtest-etc /etc

# The service manager's and journald's settings for this run (both read /run/systemd/*.conf.d).
mkdir -p /run/systemd/system.conf.d /run/systemd/journald.conf.d
cp /run/sdtest/system.conf /run/systemd/system.conf.d/50-sdtest.conf
cp /run/sdtest/journald.conf /run/systemd/journald.conf.d/50-sdtest.conf

# Last: the rest of / read-only, in this mount namespace only (a bind remount of its copy).
mount -n -o remount,bind,ro /
# Then shared propagation, as systemd sets it up on a real boot but leaves to the container
# manager in a container: its helpers mount in namespaces of their own and move the result
# into place (LoadCredential= does). unshare made every mount private first, so the new peer
# groups hold this namespace and its children only, never the host.
mount -n --make-rshared /

cd /
# Only the harness's units, no generators (the host's would read its fstab and more), and a
# bounding set without the capabilities that reach beyond the namespaces (as nspawn drops them).
exec env -i container=sdtest \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        SYSTEMD_UNIT_PATH=/run/sdtest/units SYSTEMD_GENERATOR_PATH= SYSTEMD_ENVIRONMENT_GENERATOR_PATH= \
        setpriv --bounding-set "$(cat /run/sdtest/drop-caps)" -- \
        "$(cat /run/sdtest/systemd-path)" --unit=sdtest.target </dev/null >/dev/console 2>&1

# The service under test in tests/test-systemd-real.sh: the daemon as built
# ($top_builddir/connector-reconciler) under the shipped units, its config and API key in
# /etc/connector-reconciler as the units expect them, and the message catalog compiled where
# journalctl -x finds it. Sourced by the test after tests/sdtest/sdtest.sh and sdtest_init.

SUBJECT_NAME="connector-reconciler (the daemon as built)"

# The MESSAGE_IDs the checks look for (daemon/messages.h): alerting and dashboards match these
# values, so they are written out here rather than read from the header.
SUBJECT_MESSAGE_STARTED=9117b148854145548ab53287c6b9710e
SUBJECT_MESSAGE_STOPPING=6272ded8bdfe4a19ae62f8c746996ab6
SUBJECT_MESSAGE_CYCLE_START=e105818ab7f54954bf85431753d450f1
SUBJECT_MESSAGE_CYCLE_END=e329f498a63448488b18fbff14d69c28
SUBJECT_MESSAGE_DELETED=c6b2413224484588842a0df7a2c25e5e
SUBJECT_MESSAGE_RELOADED=1fcb45eaed8a465ba02a2c7e1eecc88e

SUBJECT_CONFIG=/etc/connector-reconciler/config.yaml

subject_config() {  # [YAML-LINE...]: the config, for the fake cluster and the bound manifests' Git repository
        # The API key is the unit's credential (LoadCredential=api-key:...): a bare name reads
        # $CREDENTIALS_DIRECTORY/api-key. Extra lines are appended as they are.
        {
                echo "cluster:"
                echo "  url: http://127.0.0.1:9200"
                echo "  api_key_file: api-key"
                # Fetched like a remote (a child process writes the mirror into the state
                # directory), from the checkout the drop-in binds.
                echo "manifests:"
                echo "  git: file:///srv/gitops"
                local l
                for l in "$@"; do
                        echo "$l"
                done
        } | sdtest_install_etc "${SUBJECT_CONFIG#/etc/}" 0644
}

subject_install() {  # API-KEY: the program, drop-ins running it, its key, config and catalog
        sdtest_install_bin "$top_builddir/connector-reconciler" || return 1
        # The shipped command lines, with the program where the namespace has it. The config is
        # named: the program's built-in default follows the build's sysconfdir, while the units
        # keep the config and the key in /etc/connector-reconciler (ConfigurationDirectory=,
        # LoadCredential=).
        sdtest_install_dropin connector-reconciler.service 60-subject <<EOF
[Service]
ExecStart=
ExecStart=$SDTEST_IN/bin/connector-reconciler -c $SUBJECT_CONFIG run
EOF
        sdtest_install_dropin connector-reconciler-once.service 60-subject <<EOF
[Service]
ExecStart=
ExecStart=$SDTEST_IN/bin/connector-reconciler -c $SUBJECT_CONFIG once
EOF
        printf '%s\n' "$1" | sdtest_install_etc connector-reconciler/api-key 0600 || return 1
        subject_config || return 1
        mkdir -p "$SDTEST_WORK/catalog" &&
                cp "$top_srcdir/systemd/connector-reconciler.catalog" "$SDTEST_WORK/catalog/"
}

subject_install_catalog() {  # after boot: the catalog where `make install` puts it, compiled
        # journalctl --update-catalog reads only /usr/lib/systemd/catalog and
        # /usr/local/lib/systemd/catalog, read-only inside: a copy of the first, with ours added,
        # is mounted over it (in the namespace's mount namespace only). The database it compiles
        # goes to /var/lib/systemd/catalog, an empty tmpfs inside, where journalctl -x reads it.
        sdtest_run sh -c 'set -e
                mkdir -p /run/.sdtest-catalog
                cp /usr/lib/systemd/catalog/*.catalog "$1"/*.catalog /run/.sdtest-catalog/
                mount -n --bind /run/.sdtest-catalog /usr/lib/systemd/catalog
                journalctl --update-catalog' sh "$SDTEST_IN/catalog"
}

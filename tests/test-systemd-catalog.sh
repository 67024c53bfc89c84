#!/bin/bash
# The journal message catalog: well formed, compiled by journalctl, one entry per MESSAGE_ID of
# daemon/messages.h and no other, each with the headers journalctl -x shows.
. "$top_srcdir/tests/lib.sh"

command -v journalctl >/dev/null || skip_all "needs journalctl"

catalog="$top_srcdir/systemd/connector-reconciler.catalog"
messages="$top_srcdir/daemon/messages.h"

# journalctl takes any line that is not a well-formed "-- ID" heading as text of the entry
# before it, so the headings are checked here.
bad=$(grep -n '^--' "$catalog" | grep -Ev '^[0-9]+:-- [0-9a-f]{32}$')
is "$bad" "" "every entry heading is '-- ' and 32 lowercase hex digits"

root="$TEST_TMP/root"
mkdir -p "$root/usr/lib/systemd/catalog"
cp "$catalog" "$root/usr/lib/systemd/catalog/"
journalctl --root="$root" --update-catalog >"$TEST_TMP/update.log" 2>&1
is "$?/$(cat "$TEST_TMP/update.log")" "0/" "journalctl --update-catalog compiles it without a word"

ids_catalog=$(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$catalog" | sort)
is "$(printf '%s\n' "$ids_catalog" | uniq -d)" "" "no MESSAGE_ID has two entries"
is "$(journalctl --root="$root" --list-catalog | awk '{ print $1 }' | sort)" "$ids_catalog" \
        "journalctl lists every entry"

ids_daemon=$(sed -n 's/^#define MESSAGE_[A-Z_]* *"\([0-9a-f]\{32\}\)"$/\1/p' "$messages" | sort)
[ -n "$ids_daemon" ]
ok $? "daemon/messages.h defines MESSAGE_IDs"
is "$(comm -23 <(printf '%s\n' "$ids_daemon") <(printf '%s\n' "$ids_catalog"))" "" \
        "every MESSAGE_ID of daemon/messages.h has a catalog entry"
is "$(comm -13 <(printf '%s\n' "$ids_daemon") <(printf '%s\n' "$ids_catalog"))" "" \
        "every catalog entry is a MESSAGE_ID of daemon/messages.h"

for id in $ids_catalog; do
        entry=$(journalctl --root="$root" --dump-catalog "$id")
        missing=
        for header in Subject Defined-By Support Documentation; do
                printf '%s\n' "$entry" | grep -q "^$header: ." || missing="$missing $header"
        done
        is "$missing" "" "entry $id has Subject, Defined-By, Support and Documentation"
        printf '%s\n' "$entry" | grep -qx 'Defined-By: connector-reconciler'
        ok $? "entry $id is defined by connector-reconciler"
done

tap_done

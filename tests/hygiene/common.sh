# Helpers shared by the tests in tests/hygiene/, on top of tests/lib.sh (sourced here).
. "$top_srcdir/tests/lib.sh"

# seed_team_a FILE [EXTRA-ID...]: team-a-hr (declared by team_a_manifest), the orphans team-a-old
# and team-a-legacy, one connector no set owns, and one orphan team-a-ID per extra id.
seed_team_a() {
        local file=$1 id
        local connectors=("team-a-hr search-a-hr google_drive" "team-a-old search-a-old google_drive"
                "team-a-legacy search-a-legacy google_drive" "other search-other confluence")
        shift
        for id in "$@"; do
                connectors+=("team-a-$id search-a-$id google_drive")
        done
        write_seed "$file" "${connectors[@]}"
}

# team_a_manifest: the set that owns every team-a- connector and declares team-a-hr.
team_a_manifest() {
        write_set "$M/team-a.yaml" team-a team-a- --delete-sync-jobs team-a-hr
}

# is_sanitized PROGRAM: built with AddressSanitizer (which valgrind cannot run under)?
is_sanitized() {
        grep -qa __asan_init "$1"
}

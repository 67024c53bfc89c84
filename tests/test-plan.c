/* The plan: connector-reconciler-manifest(5)'s semantics, one table row per rule.
 *
 * Each row gives the sets, the cluster's connectors and the policy in a compact notation, and
 * the expected plan as one string, so a failure prints the whole plan it got:
 *
 *   set:       "NAME [id=P,P] [svc=T,T] [idx=P,P] [noprune] [sync] [hard] [allow_empty] [purge=SECONDS]
 *              [decl=ID,ID]" (prune on, sync/hard/allow_empty/purge_after off unless named)
 *   actual:    space-separated "[!]ID[|SERVICE_TYPE[|INDEX_NAME]]"; '!' = soft-deleted,
 *              an absent or empty field = NULL
 *   max:       safety.max_deletions, NULL = unlimited
 *   grace:     "GRACE@NOW": safety.orphan_grace and the wall clock, in seconds; NULL = no grace
 *   seen:      space-separated "ID=SINCE" (seconds): orphans seen by earlier cycles
 *   prior:     space-separated "ID=SET": who declared what in the last cycle that ran; NULL = none
 *              recorded
 *   confirmed: comma-separated names of removed sets confirmed
 *   deleted:   space-separated "ID[@SECONDS]": ids this program deleted lately, and when
 *   want:      the items in plan order, space-separated:
 *              delete:ID(SETS[,sync][,hard][,purge])  protected:ID(SETS[,at=SECONDS]: REASON)  keep:ID(SET)
 *              missing:ID(SET[: REASON])  unmanaged:ID  waiting:ID(SETS[,sync][,hard],until=SECONDS)
 *              (SETS joined by '+')
 *   blocked:   the expected reason, or NULL
 *
 * Every row is also run again with its sets, their declared connectors and selector lists, and
 * the cluster's connectors shuffled, and must give the same plan (unless marked order-sensitive:
 * the rows that pin which duplicate wins). */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "tap.h"
#include "util.h"

#define SOFT          "soft-deleted in the cluster (deleted: true); not deleted again"
#define SOFT_DECLARED "declared, but soft-deleted in the cluster (deleted: true)"
#define EMPTY(set, n)                                                                                      \
        "set '" set "' declares no connectors but owns " n " in the cluster; refusing to delete them all " \
        "(set prune.allow_empty: true to allow this)"

#define REMOVED(set, n, what, example)                                                                      \
        "set '" set "' is gone from the manifests since the last cycle that ran, and " n " " what           \
        " it declared then would now be deleted (such as '" example "'); if its removal is meant, confirm " \
        "it (once: --confirm-removed-set " set "; in the config: safety.confirm_removed_sets)"

/* The rules a reason names, from its text: what blocked_by must say. */
static unsigned expected_blocked_by(const char *reason) {
        unsigned by = 0;

        if (!reason)
                return 0;
        if (strstr(reason, "refusing to delete them all"))
                by |= PLAN_BLOCK_ALLOW_EMPTY;
        if (strstr(reason, "is gone from the manifests since the last cycle"))
                by |= PLAN_BLOCK_REMOVED_SET;
        if (strstr(reason, "more than safety.max_deletions"))
                by |= PLAN_BLOCK_MAX_DELETIONS;
        return by;
}

struct row {
        const char *name;
        const char *sets[4];
        const char *actual;
        const char *max;
        const char *grace;
        const char *seen;
        const char *prior;
        const char *confirmed;
        const char *deleted;
        const char *want;
        const char *blocked;
        bool order_sensitive;
};

static const struct row rows[] = {
        /* Selectors. */
        {
                .name = "selector: no keys owns everything",
                .sets = { "A decl=a1" },
                .actual = "a1 x y",
                .want = "delete:x(A) delete:y(A) keep:a1(A)",
        },
        {
                .name = "selector: id_prefix list matches any item",
                .sets = { "A id=p-,q- decl=p-1" },
                .actual = "p-1 p-2 q-1 r-1 P-1",
                .want = "delete:p-2(A) delete:q-1(A) keep:p-1(A) unmanaged:P-1 unmanaged:r-1",
        },
        {
                .name = "selector: an id_prefix equal to the whole id matches",
                .sets = { "A id=x decl=k" },
                .actual = "x k xy y",
                .want = "delete:x(A) delete:xy(A) keep:k(A) unmanaged:y",
        },
        {
                .name = "selector: an id shorter than the prefix does not match",
                .sets = { "A id=team-a- decl=k" },
                .actual = "team- team-a team-a-1 k",
                .want = "delete:team-a-1(A) keep:k(A) unmanaged:team- unmanaged:team-a",
        },
        {
                .name = "selector: service_types match equal to any item, not by prefix",
                .sets = { "A svc=gd,sp decl=k" },
                .actual = "k|gd x|gd y|sp z|gdx w|g",
                .want = "delete:x(A) delete:y(A) keep:k(A) unmanaged:w unmanaged:z",
        },
        {
                .name = "selector: index_name_prefix list matches any item",
                .sets = { "A idx=search-a-,s-b- decl=k" },
                .actual = "k x||search-a-1 y||s-b-2 z||search-b-1 w",
                .want = "delete:x(A) delete:y(A) keep:k(A) unmanaged:w unmanaged:z",
        },
        {
                .name = "selector: every key must match",
                .sets = { "A id=t- svc=gd idx=s- decl=t-k" },
                .actual = "t-k t-1|gd|s-1 t-2|sp|s-2 t-3|gd|x-3 u-4|gd|s-4",
                .want = "delete:t-1(A) keep:t-k(A) unmanaged:t-2 unmanaged:t-3 unmanaged:u-4",
        },
        {
                .name = "selector: NULL service_type/index_name matches no list, but an absent key",
                .sets = { "A svc=gd decl=k", "B idx=s- decl=k2", "C id=n decl=k3" },
                .actual = "k k2 k3 n1 n2|gd n3||s-x o1",
                .want = "delete:n1(C) delete:n2(A+C) delete:n3(B+C) keep:k(A) keep:k2(B) keep:k3(C) "
                        "unmanaged:o1",
        },

        /* Deleting: the flags, overlapping sets. */
        {
                .name = "delete_sync_jobs and hard come from the one owning set",
                .sets = { "A sync hard decl=k", "B id=b- sync decl=b-k" },
                .actual = "k x b-1 b-k",
                .want = "delete:b-1(A+B,sync) delete:x(A,sync,hard) keep:b-k(B) keep:k(A)",
        },
        {
                .name = "defaults: no delete_sync_jobs, no hard",
                .sets = { "A decl=k" },
                .actual = "k x",
                .want = "delete:x(A) keep:k(A)",
        },
        {
                .name = "overlap: hard only when every owning set says so",
                .sets = { "A id=x hard sync decl=a", "B id=x- sync decl=b" },
                .actual = "a b x-1 xa",
                .want = "delete:x-1(A+B,sync) delete:xa(A,sync,hard) keep:a(A) keep:b(B)",
        },
        {
                .name = "overlap: delete_sync_jobs only when every owning set says so",
                .sets = { "A id=x hard sync decl=a", "B id=x- hard decl=b" },
                .actual = "a b x-1",
                .want = "delete:x-1(A+B,hard) keep:a(A) keep:b(B)",
        },
        {
                .name = "overlap: both flags when every owning set says so",
                .sets = { "A id=x hard sync decl=a", "B id=x- hard sync decl=b" },
                .actual = "a b x-1",
                .want = "delete:x-1(A+B,sync,hard) keep:a(A) keep:b(B)",
        },
        {
                .name = "prune disabled in one of two owning sets -> protected",
                .sets = { "A id=x decl=a", "B id=x- noprune decl=b" },
                .actual = "a b x-1 xa",
                .want = "delete:xa(A) keep:a(A) keep:b(B) "
                        "protected:x-1(A+B: set 'B' has prune.enabled: false)",
        },
        {
                .name = "prune disabled in two of three owning sets: the reason names both, sorted",
                .sets = { "C noprune decl=c", "A decl=a", "B noprune decl=b" },
                .actual = "a b c x",
                .want = "keep:a(A) keep:b(B) keep:c(C) "
                        "protected:x(A+B+C: sets 'B', 'C' have prune.enabled: false)",
        },
        {
                .name = "prune disabled and nothing declared: protected, no block",
                .sets = { "A noprune" },
                .actual = "x y",
                .want = "protected:x(A: set 'A' has prune.enabled: false) "
                        "protected:y(A: set 'A' has prune.enabled: false)",
        },
        {
                .name = "set names listed once when two sets share a name",
                .sets = { "A id=x decl=a1", "A id=x- decl=a2" },
                .actual = "a1 a2 x-1",
                .want = "delete:x-1(A) keep:a1(A) keep:a2(A)",
        },

        /* Declared, missing, unmanaged. */
        {
                .name = "declared never deleted even when another set with prune owns it",
                .sets = { "A id=s decl=shared", "B hard sync decl=b" },
                .actual = "shared b",
                .want = "keep:b(B) keep:shared(A)",
        },
        {
                .name = "declared but owned by no selector: kept with the declaring set",
                .sets = { "A id=a- decl=zzz" },
                .actual = "zzz",
                .want = "keep:zzz(A)",
        },
        {
                .name = "missing: a declared id the cluster does not list",
                .sets = { "A decl=a1,a2", "B id=b- decl=b1" },
                .actual = "a1",
                .want = "keep:a1(A) missing:a2(A) missing:b1(B)",
        },
        {
                .name = "unmanaged never touched",
                .sets = { "A id=a- sync hard decl=a-1" },
                .actual = "b c a-1",
                .max = "0",
                .want = "keep:a-1(A) unmanaged:b unmanaged:c",
        },

        /* Soft-deleted connectors. */
        {
                .name = "soft-deleted orphan is not deleted again",
                .sets = { "A hard decl=k" },
                .actual = "k !old x",
                .want = "delete:x(A,hard) keep:k(A) protected:old(A: " SOFT ")",
        },
        {
                .name = "soft-deleted orphan in a set without pruning: reported as soft-deleted",
                .sets = { "A noprune decl=k" },
                .actual = "k !old",
                .want = "keep:k(A) protected:old(A: " SOFT ")",
        },
        {
                .name = "soft-deleted declared connector is missing",
                .sets = { "A decl=k,j" },
                .actual = "!k j",
                .want = "keep:j(A) missing:k(A: " SOFT_DECLARED ")",
        },
        {
                .name = "soft-deleted connector no set owns stays unmanaged",
                .sets = { "A id=a- decl=a-1" },
                .actual = "a-1 !b",
                .want = "keep:a-1(A) unmanaged:b",
        },
        {
                .name = "soft-deleted orphans do not count against max_deletions",
                .sets = { "A decl=k" },
                .actual = "k !x !y",
                .max = "0",
                .want = "keep:k(A) protected:x(A: " SOFT ") protected:y(A: " SOFT ")",
        },

        /* allow_empty. */
        {
                .name = "allow_empty false + empty set owning connectors -> blocked, deletes still shown",
                .sets = { "team-a id=a-" },
                .actual = "a-1 a-2 b",
                .want = "delete:a-1(team-a) delete:a-2(team-a) unmanaged:b",
                .blocked = EMPTY("team-a", "2"),
        },
        {
                .name = "allow_empty true -> deletes",
                .sets = { "A id=a- allow_empty" },
                .actual = "a-1 a-2 b",
                .want = "delete:a-1(A) delete:a-2(A) unmanaged:b",
        },
        {
                .name = "allow_empty: an empty set that owns nothing does not block",
                .sets = { "A id=a-" },
                .actual = "b",
                .want = "unmanaged:b",
        },
        {
                .name = "allow_empty: an empty set in an empty cluster does not block",
                .sets = { "A" },
                .actual = "",
                .want = "",
        },
        {
                .name = "allow_empty: soft-deleted leftovers count (conservative)",
                .sets = { "A id=a-" },
                .actual = "!a-1",
                .want = "protected:a-1(A: " SOFT ")",
                .blocked = EMPTY("A", "1"),
        },
        {
                .name = "allow_empty: connectors another set declares count",
                .sets = { "A id=a-", "B decl=a-1" },
                .actual = "a-1",
                .want = "keep:a-1(B)",
                .blocked = EMPTY("A", "1"),
        },
        {
                .name = "allow_empty: the empty set blocks the deletions of other sets too",
                .sets = { "A id=a-", "B id=b- decl=b-1" },
                .actual = "a-1 b-1 b-2",
                .want = "delete:a-1(A) delete:b-2(B) keep:b-1(B)",
                .blocked = EMPTY("A", "1"),
        },
        {
                .name = "allow_empty: two empty sets are both named, by name",
                .sets = { "Z id=z-", "A id=a-" },
                .actual = "a-1 z-1 z-2",
                .want = "delete:a-1(A) delete:z-1(Z) delete:z-2(Z)",
                .blocked = EMPTY("A", "1") "; " EMPTY("Z", "2"),
        },
        {
                .name = "allow_empty: an empty set with pruning disabled does not block",
                .sets = { "A id=a- noprune", "B decl=b" },
                .actual = "a-1 b c",
                .want = "delete:c(B) keep:b(B) protected:a-1(A+B: set 'A' has prune.enabled: false)",
        },

        /* max_deletions. */
        {
                .name = "max_deletions: below the limit",
                .sets = { "A decl=k" },
                .actual = "k x y",
                .max = "3",
                .want = "delete:x(A) delete:y(A) keep:k(A)",
        },
        {
                .name = "max_deletions: at the limit",
                .sets = { "A decl=k" },
                .actual = "k x y",
                .max = "2",
                .want = "delete:x(A) delete:y(A) keep:k(A)",
        },
        {
                .name = "max_deletions: above the limit",
                .sets = { "A decl=k" },
                .actual = "k x y",
                .max = "1",
                .want = "delete:x(A) delete:y(A) keep:k(A)",
                .blocked = "the plan deletes 2 connectors, more than safety.max_deletions (1)",
        },
        {
                .name = "max_deletions: zero blocks a single deletion",
                .sets = { "A decl=k" },
                .actual = "k x",
                .max = "0",
                .want = "delete:x(A) keep:k(A)",
                .blocked = "the plan deletes 1 connector, more than safety.max_deletions (0)",
        },
        {
                .name = "max_deletions: zero with nothing to delete",
                .sets = { "A decl=k,m" },
                .actual = "k",
                .max = "0",
                .want = "keep:k(A) missing:m(A)",
        },
        {
                .name = "max_deletions: unlimited",
                .sets = { "A decl=k" },
                .actual = "k x y z",
                .want = "delete:x(A) delete:y(A) delete:z(A) keep:k(A)",
        },
        {
                .name = "max_deletions: the largest finite limit",
                .sets = { "A decl=k" },
                .actual = "k x",
                .max = "18446744073709551614",
                .want = "delete:x(A) keep:k(A)",
        },
        {
                .name = "allow_empty and max_deletions both block: both named",
                .sets = { "A id=a-" },
                .actual = "a-1 a-2",
                .max = "1",
                .want = "delete:a-1(A) delete:a-2(A)",
                .blocked = EMPTY("A",
                                 "2") "; the plan deletes 2 connectors, more than safety.max_deletions (1)",
        },

        /* Edges and order. */
        {
                .name = "empty cluster",
                .sets = { "A decl=a1", "B id=b-" },
                .actual = "",
                .want = "missing:a1(A)",
        },
        {
                .name = "no sets",
                .actual = "b a",
                .max = "0",
                .want = "unmanaged:a unmanaged:b",
        },
        {
                .name = "no sets, empty cluster",
                .actual = "",
                .want = "",
        },
        {
                .name = "non-ASCII ids, set names and prefixes",
                .sets = { "Équipe id=é decl=été", "équipe id=日 decl=日本" },
                .actual = "été éclair 日本 日没 e",
                .want = "delete:éclair(Équipe) delete:日没(équipe) keep:été(Équipe) keep:日本(équipe) "
                        "unmanaged:e",
        },
        {
                .name = "deterministic order: by kind, then id bytewise",
                .sets = { "S id=d- decl=k-b,k-a,m-b,m-a", "R id=p- noprune" },
                .actual = "u-b d-b p-b k-b u-a d-a p-a k-a u-B u-é u-_",
                .want = "delete:d-a(S) delete:d-b(S) keep:k-a(S) keep:k-b(S) missing:m-a(S) missing:m-b(S) "
                        "unmanaged:u-B unmanaged:u-_ unmanaged:u-a unmanaged:u-b unmanaged:u-é "
                        "protected:p-a(R: set 'R' has prune.enabled: false) "
                        "protected:p-b(R: set 'R' has prune.enabled: false)",
        },
        {
                .name = "an id the cluster lists twice counts once",
                .sets = { "A decl=k" },
                .actual = "x k x k",
                .max = "1",
                .want = "delete:x(A) keep:k(A)",
        },
        {
                .name = "an id the cluster lists twice: the first copy decides",
                .sets = { "A decl=k" },
                .actual = "k !x x",
                .want = "keep:k(A) protected:x(A: " SOFT ")",
                .order_sensitive = true,
        },
        {
                .name = "declared twice: the first declaring set wins",
                .sets = { "B decl=x,y", "A decl=x,y" },
                .actual = "x",
                .want = "keep:x(B) missing:y(B)",
                .order_sensitive = true,
        },

        /* Orphan grace. */
        {
                .name = "grace off: an orphan seen a moment ago is deleted",
                .sets = { "A decl=k" },
                .actual = "k x",
                .seen = "x=9999",
                .want = "delete:x(A) keep:k(A)",
        },
        {
                .name = "grace: deleted once seen for as long, waiting before, a new one waits whole",
                .sets = { "A sync decl=k" },
                .actual = "k x y z w",
                .grace = "3600@10000",
                .seen = "w=6400 x=9000 y=5000 gone=1",
                .want = "delete:w(A,sync) delete:y(A,sync) keep:k(A) waiting:x(A,sync,until=12600) "
                        "waiting:z(A,sync,until=13600)",
        },
        {
                .name = "grace: a clock set back restarts the wait, never shortens it",
                .sets = { "A decl=k" },
                .actual = "k x",
                .grace = "60@10000",
                .seen = "x=20000",
                .want = "keep:k(A) waiting:x(A,until=10060)",
        },
        {
                .name = "grace: waiting orphans do not count against max_deletions",
                .sets = { "A decl=k" },
                .actual = "k x y z",
                .max = "1",
                .grace = "100@1000",
                .seen = "x=1",
                .want = "delete:x(A) keep:k(A) waiting:y(A,until=1100) waiting:z(A,until=1100)",
        },
        {
                .name = "grace: a protected or soft-deleted orphan never waits",
                .sets = { "A noprune decl=k" },
                .actual = "k x !y",
                .grace = "100@1000",
                .want = "keep:k(A) protected:x(A: set 'A' has prune.enabled: false) protected:y(A: " SOFT
                        ")",
        },

        /* Deleted lately, and back. */
        {
                .name = "deleted lately and listed again: protected, not deleted again",
                .sets = { "A decl=k" },
                .actual = "k x y",
                .deleted = "x gone",
                .want = "delete:y(A) keep:k(A) protected:x(A: " PLAN_REASON_RETURNED ")",
        },
        {
                .name = "deleted lately and back, but declared now or no longer owned: as usual",
                .sets = { "A id=a- decl=a-k" },
                .actual = "a-k b-x",
                .deleted = "a-k b-x",
                .want = "keep:a-k(A) unmanaged:b-x",
        },
        {
                .name = "deleted lately and back, with grace: protected, never waiting",
                .sets = { "A decl=k" },
                .actual = "k x",
                .grace = "100@1000",
                .deleted = "x",
                .want = "keep:k(A) protected:x(A: " PLAN_REASON_RETURNED ")",
        },
        {
                .name = "deleted lately and back: not counted against max_deletions",
                .sets = { "A decl=k" },
                .actual = "k x y",
                .max = "1",
                .deleted = "x",
                .want = "delete:y(A) keep:k(A) protected:x(A: " PLAN_REASON_RETURNED ")",
        },

        /* Purging what this program soft-deleted (prune.purge_after). */
        {
                .name = "purge: due, a hard delete; not yet, protected until when it is due",
                .sets = { "A purge=100 sync decl=k" },
                .actual = "k !x !y",
                .grace = "0@1000",
                .deleted = "x@900 y@901",
                .want = "delete:x(A,sync,hard,purge) keep:k(A) protected:y(A,at=1001: " PLAN_REASON_PURGE_AT
                        ")",
        },
        {
                .name = "purge: never a tombstone this program did not make, or made at a time not known",
                .sets = { "A purge=100 decl=k" },
                .actual = "k !x !y !z",
                .grace = "0@1000",
                .deleted = "y z@0",
                .want = "keep:k(A) protected:x(A: " SOFT ") protected:y(A: " SOFT ") protected:z(A: " SOFT
                        ")",
        },
        {
                .name = "purge: every owning set must purge, and the longest purge_after counts",
                .sets = { "A id=a purge=100 allow_empty", "B svc=s purge=500 allow_empty",
                          "C svc=t allow_empty" },
                .actual = "!a1|s !a2|t !a3|u",
                .grace = "0@500",
                .deleted = "a1@100 a2@100 a3@100",
                .want = "delete:a3(A,hard,purge) protected:a1(A+B,at=600: " PLAN_REASON_PURGE_AT
                        ") protected:a2(A+C: " SOFT ")",
        },
        {
                .name = "purge: a set with pruning disabled keeps the tombstone",
                .sets = { "A purge=100 allow_empty", "B noprune purge=100" },
                .actual = "!x",
                .grace = "0@1000",
                .deleted = "x@100",
                .want = "protected:x(A+B: " SOFT ")",
        },
        {
                .name = "purge: declared again, the tombstone is missing, never purged",
                .sets = { "A purge=100 decl=x" },
                .actual = "!x",
                .grace = "0@1000",
                .deleted = "x@100",
                .want = "missing:x(A: " SOFT_DECLARED ")",
        },
        {
                .name = "purge: live again after the delete, protected as returned, not purged",
                .sets = { "A purge=100 decl=k" },
                .actual = "k x",
                .grace = "0@1000",
                .deleted = "x@100",
                .want = "keep:k(A) protected:x(A: " PLAN_REASON_RETURNED ")",
        },
        {
                .name = "purge: counted against max_deletions, without grace",
                .sets = { "A purge=100 decl=k" },
                .actual = "k !x y",
                .max = "1",
                .grace = "5000@1000",
                .deleted = "x@100",
                .want = "delete:x(A,hard,purge) keep:k(A) waiting:y(A,until=6000)",
        },
        {
                .name = "purge: a due time past the end of time never comes",
                .sets = { "A purge=18446744073709 decl=k" },
                .actual = "k !x",
                .grace = "0@1000",
                .deleted = "x@18446744073709",
                .want = "keep:k(A) protected:x(A,at=18446744073709: " PLAN_REASON_PURGE_AT ")",
        },

        /* Removed sets. */
        {
                .name = "removed set: its connectors, orphans of another set now, block the cycle",
                .sets = { "A decl=a1" },
                .actual = "a1 b1 b2 c1",
                .prior = "a1=A b1=B b2=B b3=B",
                .want = "delete:b1(A) delete:b2(A) delete:c1(A) keep:a1(A)",
                .blocked = REMOVED("B", "2", "connectors", "b1"),
        },
        {
                .name = "removed set: confirmed, they are deleted",
                .sets = { "A decl=a1" },
                .actual = "a1 b1 b2",
                .prior = "a1=A b1=B b2=B",
                .confirmed = "C,B",
                .want = "delete:b1(A) delete:b2(A) keep:a1(A)",
        },
        {
                .name = "removed set: two of them, each named, then max_deletions",
                .sets = { "A decl=a1" },
                .actual = "a1 b1 c1 c2",
                .max = "2",
                .prior = "b1=B c1=C c2=C",
                .want = "delete:b1(A) delete:c1(A) delete:c2(A) keep:a1(A)",
                .blocked = REMOVED("B", "1", "connector", "b1") "; " REMOVED(
                        "C", "2", "connectors",
                        "c1") "; "
                              "the plan deletes 3 connectors, more than safety.max_deletions (2)",
        },
        {
                .name = "removed set: a set still there that stopped declaring an id is a plain deletion",
                .sets = { "A decl=a1", "B id=b decl=b2" },
                .actual = "a1 b1 b2",
                .prior = "a1=A b1=B b2=B",
                .want = "delete:b1(A+B) keep:a1(A) keep:b2(B)",
        },
        {
                .name = "removed set: nothing recorded, nothing blocks",
                .sets = { "A decl=a1" },
                .actual = "a1 b1",
                .want = "delete:b1(A) keep:a1(A)",
        },
        {
                .name = "removed set: its connectors still declared elsewhere, or gone, block nothing",
                .sets = { "A decl=a1,b1" },
                .actual = "a1 b1",
                .prior = "a1=A b1=B b2=B",
                .want = "keep:a1(A) keep:b1(A)",
        },
        {
                .name = "removed set: an orphan still waiting blocks nothing yet",
                .sets = { "A decl=a1" },
                .actual = "a1 b1",
                .grace = "60@1000",
                .prior = "b1=B",
                .want = "keep:a1(A) waiting:b1(A,until=1060)",
        },
};

/* Splits s at sep into a new string vector; "" gives none. Empty fields are kept (as ""). */
static char **split(const char *s, char sep, size_t *ret_n) {
        char **l = NULL;
        size_t n = 0;

        if (*s == '\0') {
                *ret_n = 0;
                return NULL;
        }
        for (const char *p = s;; p++) {
                const char *e = strchr(p, sep);
                size_t len = e ? (size_t) (e - p) : strlen(p);

                l = realloc(l, (n + 2) * sizeof(char *));
                if (!l)
                        abort();
                l[n] = strndup(p, len);
                if (!l[n])
                        abort();
                l[++n] = NULL;
                if (!e)
                        break;
                p = e;
        }
        *ret_n = n;
        return l;
}

static void parse_set(const char *spec, struct plan_set *s) {
        char **tok;
        size_t n;

        *s = (struct plan_set){ .prune_enabled = true };
        tok = split(spec, ' ', &n);
        if (n == 0)
                abort();
        s->name = strdup(tok[0]);
        for (size_t i = 1; i < n; i++) {
                const char *t = tok[i];
                const char *v;

                if ((v = startswith(t, "id=")))
                        s->id_prefixes = split(v, ',', &s->n_id_prefixes);
                else if ((v = startswith(t, "svc=")))
                        s->service_types = split(v, ',', &s->n_service_types);
                else if ((v = startswith(t, "idx=")))
                        s->index_name_prefixes = split(v, ',', &s->n_index_name_prefixes);
                else if ((v = startswith(t, "decl="))) {
                        char **ids = split(v, ',', &s->n_connectors);

                        s->connectors = calloc(s->n_connectors, sizeof(struct plan_declared));
                        for (size_t j = 0; j < s->n_connectors; j++)
                                s->connectors[j].id = ids[j];
                        free(ids);
                } else if (streq(t, "noprune"))
                        s->prune_enabled = false;
                else if (streq(t, "sync"))
                        s->delete_sync_jobs = true;
                else if (streq(t, "hard"))
                        s->hard = true;
                else if (streq(t, "allow_empty"))
                        s->allow_empty = true;
                else if ((v = startswith(t, "purge=")))
                        s->purge_after_usec = strtoull(v, NULL, 10) * USEC_PER_SEC;
                else {
                        fprintf(stderr, "bad set token '%s'\n", t);
                        abort();
                }
        }
        strv_free(tok);
}

static void parse_actual(const char *spec, struct plan_connector **ret, size_t *ret_n) {
        struct plan_connector *a;
        char **tok;
        size_t n;

        tok = split(spec, ' ', &n);
        a = calloc(MAX(n, (size_t) 1), sizeof(struct plan_connector));
        for (size_t i = 0; i < n; i++) {
                const char *t = tok[i];
                char **f;
                size_t nf;

                if (*t == '!') {
                        a[i].deleted = true;
                        t++;
                }
                f = split(t, '|', &nf);
                a[i].id = f[0];
                f[0] = NULL;
                if (nf > 1 && *f[1])
                        a[i].service_type = TAKE_PTR(f[1]);
                if (nf > 2 && *f[2])
                        a[i].index_name = TAKE_PTR(f[2]);
                for (size_t j = 1; j < nf; j++)
                        free(f[j]);
                free(f);
        }
        strv_free(tok);
        *ret = a;
        *ret_n = n;
}

/* The plan in the notation of the table above; with reasons false, a reason shows as ": R". */
static char *serialize_full(const struct plan *p, bool reasons) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                abort();
        for (size_t i = 0; i < p->n_items; i++) {
                const struct plan_item *it = p->items + i;

                fprintf(f, "%s%s:%s", i > 0 ? " " : "", plan_kind_to_string(it->kind), it->id);
                if (it->kind == PLAN_UNMANAGED)
                        continue;
                fputc('(', f);
                for (size_t j = 0; j < it->n_sets; j++)
                        fprintf(f, "%s%s", j > 0 ? "+" : "", it->sets[j]);
                if (it->delete_sync_jobs)
                        fputs(",sync", f);
                if (it->hard)
                        fputs(",hard", f);
                if (it->purge)
                        fputs(",purge", f);
                if (it->kind == PLAN_PROTECTED && it->deletable_at_usec > 0)
                        fprintf(f, ",at=%" PRIu64, it->deletable_at_usec / USEC_PER_SEC);
                if (it->kind == PLAN_WAITING)
                        fprintf(f, ",until=%" PRIu64, it->deletable_at_usec / USEC_PER_SEC);
                if (it->reason)
                        fprintf(f, ": %s", reasons ? it->reason : "R");
                fputc(')', f);
        }
        if (fclose(f) != 0)
                abort();
        return buf;
}

static char *serialize(const struct plan *p) {
        return serialize_full(p, true);
}

/* What every plan must satisfy, whatever the input: returns NULL or what is wrong. */
static const char *check_invariants(const struct plan *p, const struct plan_connector *actual,
                                    size_t n_actual) {
        size_t counts[_PLAN_KIND_MAX] = {};

        for (size_t i = 0; i < p->n_items; i++) {
                const struct plan_item *it = p->items + i;

                if ((unsigned) it->kind >= _PLAN_KIND_MAX)
                        return "kind out of range";
                counts[it->kind]++;
                if (i > 0) {
                        const struct plan_item *prev = it - 1;

                        if (prev->kind > it->kind ||
                            (prev->kind == it->kind && strcmp(prev->id, it->id) >= 0))
                                return "items not sorted by kind, then id, each id once";
                }
                for (size_t j = 1; j < it->n_sets; j++)
                        if (strcmp(it->sets[j - 1], it->sets[j]) >= 0)
                                return "sets not sorted or not unique";
                if (it->connector) {
                        if (it->connector < actual || it->connector >= actual + n_actual)
                                return "connector does not point into the input";
                        if (!streq(it->connector->id, it->id))
                                return "connector id differs from item id";
                } else if (it->kind != PLAN_MISSING)
                        return "no connector for a listed id";
                if (it->kind != PLAN_DELETE && it->kind != PLAN_WAITING &&
                    (it->delete_sync_jobs || it->hard))
                        return "delete flags on an item that is not deleted";
                if (it->purge &&
                    (it->kind != PLAN_DELETE || !it->hard || !it->connector || !it->connector->deleted))
                        return "a purge that is not the hard delete of a soft-deleted connector";
                if (it->deletable_at_usec > 0 && it->kind != PLAN_WAITING &&
                    !(it->kind == PLAN_PROTECTED && it->connector && it->connector->deleted))
                        return "a time to act on an item that is neither waiting nor awaiting its purge";
                switch (it->kind) {
                case PLAN_DELETE:
                case PLAN_WAITING:
                        if (it->n_sets == 0 || it->reason)
                                return "delete without sets, or with a reason";
                        if (it->kind == PLAN_WAITING && it->deletable_at_usec <= it->since_usec)
                                return "waiting, deletable no later than it became an orphan";
                        break;
                case PLAN_PROTECTED:
                        if (it->n_sets == 0 || !it->reason)
                                return "protected without sets or reason";
                        break;
                case PLAN_KEEP:
                        if (it->n_sets != 1 || it->reason || it->connector->deleted)
                                return "keep without exactly one set, with a reason, or soft-deleted";
                        break;
                case PLAN_MISSING:
                        if (it->n_sets != 1 || !!it->reason != !!it->connector)
                                return "missing without one set, or reason and connector disagree";
                        break;
                case PLAN_UNMANAGED:
                        if (it->n_sets != 0 || it->reason)
                                return "unmanaged with sets or a reason";
                        break;
                case _PLAN_KIND_MAX:
                        break;
                }
        }
        if (memcmp(counts, p->counts, sizeof(counts)) != 0)
                return "counts differ from the items";
        return NULL;
}

struct input {
        struct plan_set *sets;
        size_t n_sets;
        struct plan_connector *actual;
        size_t n_actual;
        struct plan_orphan_seen *seen;
        size_t n_seen;
        struct plan_prior *prior;
        size_t n_prior;
        char **confirmed;
        size_t n_confirmed;
        struct plan_deleted *deleted;
        size_t n_deleted;
        struct plan_policy policy;
};

static int deleted_cmp(const void *a, const void *b) {
        const struct plan_deleted *x = a, *y = b;

        return strcmp(x->id, y->id);
}

static int seen_cmp(const void *a, const void *b) {
        return strcmp(((const struct plan_orphan_seen *) a)->id, ((const struct plan_orphan_seen *) b)->id);
}

static int prior_cmp(const void *a, const void *b) {
        return strcmp(((const struct plan_prior *) a)->id, ((const struct plan_prior *) b)->id);
}

/* "ID=VALUE ..." into ids and values. */
static size_t parse_pairs(const char *s, char ***ret_ids, char ***ret_values) {
        size_t n = 0;
        char **words = split(s, ' ', &n);

        *ret_ids = calloc(MAX(n, (size_t) 1), sizeof(char *));
        *ret_values = calloc(MAX(n, (size_t) 1), sizeof(char *));
        if (!*ret_ids || !*ret_values)
                abort();
        for (size_t i = 0; i < n; i++) {
                char *eq = strchr(words[i], '=');

                if (!eq)
                        abort();
                (*ret_values)[i] = strdup(eq + 1);
                *eq = '\0';
                (*ret_ids)[i] = words[i];
        }
        free(words);
        return n;
}

static void input_parse(const struct row *r, struct input *in) {
        *in = (struct input){ .policy.max_deletions = PLAN_UNLIMITED };
        while (in->n_sets < ELEMENTSOF(r->sets) && r->sets[in->n_sets])
                in->n_sets++;
        in->sets = calloc(MAX(in->n_sets, (size_t) 1), sizeof(struct plan_set));
        for (size_t i = 0; i < in->n_sets; i++)
                parse_set(r->sets[i], in->sets + i);
        parse_actual(r->actual, &in->actual, &in->n_actual);
        if (r->max)
                in->policy.max_deletions = strtoull(r->max, NULL, 10);
        if (r->grace) {
                unsigned long long grace, now;

                if (sscanf(r->grace, "%llu@%llu", &grace, &now) != 2)
                        abort();
                in->policy.orphan_grace_usec = grace * USEC_PER_SEC;
                in->policy.now_usec = now * USEC_PER_SEC;
        }
        if (r->seen) {
                char **ids, **values;

                in->n_seen = parse_pairs(r->seen, &ids, &values);
                in->seen = calloc(MAX(in->n_seen, (size_t) 1), sizeof(*in->seen));
                for (size_t i = 0; i < in->n_seen; i++) {
                        in->seen[i] = (struct plan_orphan_seen){
                                .id = ids[i], .since_usec = strtoull(values[i], NULL, 10) * USEC_PER_SEC
                        };
                        free(values[i]);
                }
                free(ids);
                free(values);
                qsort(in->seen, in->n_seen, sizeof(*in->seen), seen_cmp);
                in->policy.seen = in->seen;
                in->policy.n_seen = in->n_seen;
        }
        if (r->prior) {
                char **ids, **values;

                in->n_prior = parse_pairs(r->prior, &ids, &values);
                in->prior = calloc(MAX(in->n_prior, (size_t) 1), sizeof(*in->prior));
                for (size_t i = 0; i < in->n_prior; i++)
                        in->prior[i] = (struct plan_prior){ .id = ids[i], .set = values[i] };
                free(ids);
                free(values);
                qsort(in->prior, in->n_prior, sizeof(*in->prior), prior_cmp);
                in->policy.prior = in->prior;
                in->policy.n_prior = in->n_prior;
        }
        if (r->deleted) {
                char **ids = split(r->deleted, ' ', &in->n_deleted);

                in->deleted = calloc(MAX(in->n_deleted, (size_t) 1), sizeof(*in->deleted));
                for (size_t i = 0; i < in->n_deleted; i++) {
                        char *at = strchr(ids[i], '@');

                        in->deleted[i] = (struct plan_deleted){ .id = ids[i] };
                        if (at) {
                                in->deleted[i].deleted_usec = strtoull(at + 1, NULL, 10) * USEC_PER_SEC;
                                *at = '\0';
                        }
                }
                free(ids);
                qsort(in->deleted, in->n_deleted, sizeof(*in->deleted), deleted_cmp);
                in->policy.deleted = in->deleted;
                in->policy.n_deleted = in->n_deleted;
        }
        if (r->confirmed) {
                in->confirmed = split(r->confirmed, ',', &in->n_confirmed);
                in->policy.confirmed_removed = in->confirmed;
                in->policy.n_confirmed_removed = in->n_confirmed;
        }
}

static void input_done(struct input *in) {
        for (size_t i = 0; i < in->n_sets; i++)
                plan_set_done(in->sets + i);
        free(in->sets);
        for (size_t i = 0; i < in->n_actual; i++)
                plan_connector_done(in->actual + i);
        free(in->actual);
        for (size_t i = 0; i < in->n_seen; i++)
                free(in->seen[i].id);
        free(in->seen);
        for (size_t i = 0; i < in->n_prior; i++) {
                free(in->prior[i].id);
                free(in->prior[i].set);
        }
        free(in->prior);
        strv_free(in->confirmed);
        for (size_t i = 0; i < in->n_deleted; i++)
                free(in->deleted[i].id);
        free(in->deleted);
}

static uint64_t rng_state;

static size_t rng(size_t n) {
        /* xorshift64: a fixed sequence, so a failure reproduces. */
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (size_t) (rng_state % n);
}

#define SHUFFLE(a, n)                                        \
        do {                                                 \
                for (size_t _i = (n); _i > 1; _i--) {        \
                        size_t _j = rng(_i);                 \
                        __typeof__((a)[0]) _t = (a)[_i - 1]; \
                        (a)[_i - 1] = (a)[_j];               \
                        (a)[_j] = _t;                        \
                }                                            \
        } while (0)

static void input_shuffle(struct input *in) {
        SHUFFLE(in->sets, in->n_sets);
        for (size_t i = 0; i < in->n_sets; i++) {
                struct plan_set *s = in->sets + i;

                SHUFFLE(s->connectors, s->n_connectors);
                SHUFFLE(s->id_prefixes, s->n_id_prefixes);
                SHUFFLE(s->service_types, s->n_service_types);
                SHUFFLE(s->index_name_prefixes, s->n_index_name_prefixes);
        }
        SHUFFLE(in->actual, in->n_actual);
}

static void test_row(const struct row *r, size_t index) {
        _cleanup_(plan_freep) struct plan *p = NULL;
        _cleanup_free_ char *got = NULL;
        struct input in;
        const char *bad;
        int k;

        input_parse(r, &in);
        k = plan_build(in.sets, in.n_sets, in.actual, in.n_actual, &in.policy, &p);
        if (!is_int(k, 0, "%s: plan_build() succeeds", r->name)) {
                input_done(&in);
                return;
        }

        got = serialize(p);
        is_str(got, r->want, "%s: items", r->name);
        is_str(p->blocked, r->blocked, "%s: blocked", r->name);
        is_int(p->blocked_by, expected_blocked_by(r->blocked), "%s: blocked_by", r->name);
        bad = check_invariants(p, in.actual, in.n_actual);
        if (!ok(!bad, "%s: invariants (order, counts, sets, connectors)", r->name))
                diag("%s", bad);
        input_done(&in);

        if (r->order_sensitive)
                return;

        rng_state = 0x9e3779b97f4a7c15ULL + index;
        bool same = true;
        for (int round = 0; round < 8 && same; round++) {
                _cleanup_(plan_freep) struct plan *q = NULL;
                _cleanup_free_ char *again = NULL;

                input_parse(r, &in);
                input_shuffle(&in);
                k = plan_build(in.sets, in.n_sets, in.actual, in.n_actual, &in.policy, &q);
                if (k < 0) {
                        diag("round %d: plan_build() failed: %s", round, strerror(-k));
                        same = false;
                } else {
                        again = serialize(q);
                        if (!streq(again, got) || !streq_ptr(q->blocked, p->blocked) ||
                            check_invariants(q, in.actual, in.n_actual)) {
                                diag("round %d: got '%s', blocked '%s'", round, again, strna(q->blocked));
                                same = false;
                        }
                }
                input_done(&in);
        }
        ok(same, "%s: the same plan from shuffled inputs", r->name);
}

static void test_invalid_input(void) {
        static const struct {
                const char *name;
                const char *set;
                const char *actual;
                int null_what; /* 0 set name, 1 declared id, 2 id prefix, 3 actual id, 4 service type item */
        } cases[] = {
                { "a set without a name", "A decl=a", "a", 0 },
                { "a declared connector without an id", "A decl=a", "a", 1 },
                { "a NULL id_prefixes item", "A id=x decl=a", "a", 2 },
                { "a listed connector without an id", "A decl=a", "a", 3 },
                { "a NULL service_types item", "A svc=x decl=a", "a", 4 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct plan *p = (struct plan *) 0x1; /* must stay untouched */
                struct plan_policy policy = { .max_deletions = PLAN_UNLIMITED };
                struct plan_set s;
                struct plan_connector *a;
                size_t n_a;
                char *saved;
                char **slot;

                parse_set(cases[i].set, &s);
                parse_actual(cases[i].actual, &a, &n_a);
                slot = cases[i].null_what == 0   ? &s.name
                       : cases[i].null_what == 1 ? &s.connectors[0].id
                       : cases[i].null_what == 2 ? &s.id_prefixes[0]
                       : cases[i].null_what == 3 ? &a[0].id
                                                 : &s.service_types[0];
                saved = *slot;
                *slot = NULL;
                is_int(plan_build(&s, 1, a, n_a, &policy, &p), -EINVAL, "invalid input: %s -> -EINVAL",
                       cases[i].name);
                ok(p == (struct plan *) 0x1, "invalid input: %s leaves *ret untouched", cases[i].name);
                *slot = saved;
                plan_set_done(&s);
                plan_connector_done(a);
                free(a);
        }
}

static void test_kind_to_string(void) {
        is_str(plan_kind_to_string(PLAN_DELETE), "delete", "plan_kind_to_string(PLAN_DELETE)");
        is_str(plan_kind_to_string(PLAN_KEEP), "keep", "plan_kind_to_string(PLAN_KEEP)");
        is_str(plan_kind_to_string(PLAN_MISSING), "missing", "plan_kind_to_string(PLAN_MISSING)");
        is_str(plan_kind_to_string(PLAN_UNMANAGED), "unmanaged", "plan_kind_to_string(PLAN_UNMANAGED)");
        is_str(plan_kind_to_string(PLAN_PROTECTED), "protected", "plan_kind_to_string(PLAN_PROTECTED)");
        ok(!plan_kind_to_string(_PLAN_KIND_MAX), "plan_kind_to_string(_PLAN_KIND_MAX) is NULL");
        ok(!plan_kind_to_string((enum plan_kind) - 1), "plan_kind_to_string(-1) is NULL");
}

static void test_done(void) {
        static const struct plan_set zero_set = {};
        static const struct plan_connector zero_conn = {};
        static const struct plan_declared zero_decl = {};
        struct plan_set s;
        struct plan_connector c = {
                .id = strdup("x"),
                .name = strdup("n"),
                .service_type = strdup("s"),
                .index_name = strdup("i"),
                .deleted = true,
        };
        struct plan_declared d = {
                .id = strdup("x"),
                .name = strdup("n"),
                .service_type = strdup("s"),
                .index_name = strdup("i"),
                .description = strdup("d"),
        };

        parse_set("A id=a,b svc=c idx=d noprune sync hard allow_empty decl=x,y", &s);
        s.connectors[0].description = strdup("described");
        plan_set_done(&s);
        ok(memcmp(&s, &zero_set, sizeof(s)) == 0, "plan_set_done() frees and zeroes the set");
        plan_set_done(&s);
        plan_set_done(NULL);

        plan_connector_done(&c);
        ok(memcmp(&c, &zero_conn, sizeof(c)) == 0, "plan_connector_done() frees and zeroes the connector");
        plan_connector_done(&c);
        plan_connector_done(NULL);

        plan_declared_done(&d);
        ok(memcmp(&d, &zero_decl, sizeof(d)) == 0, "plan_declared_done() frees and zeroes the connector");
        plan_declared_done(&d);
        plan_declared_done(NULL);

        ok(plan_free(NULL) == NULL, "plan_free(NULL) returns NULL");
}

/* Many connectors, to exercise the sorting and the merge beyond the table's handful. No timing:
 * only the outcome is checked. Ids c00000..: declared when i % 3 != 0 (set A, prefix c), listed
 * when i % 3 != 1; listed ids that are multiples of 7 and not declared are soft-deleted. */
static void test_many(void) {
        enum { N = 6000 };
        _cleanup_(plan_freep) struct plan *p = NULL;
        struct plan_policy policy = { .max_deletions = PLAN_UNLIMITED };
        struct plan_set s;
        struct plan_connector *a = calloc(N, sizeof(struct plan_connector));
        size_t n_a = 0, want[_PLAN_KIND_MAX] = {};
        const char *bad;

        parse_set("A id=c", &s);
        s.connectors = calloc(N, sizeof(struct plan_declared));
        /* Fill both sides in descending id order, so the sorting has work to do. */
        for (size_t i = N; i-- > 0;) {
                bool declared = i % 3 != 0, listed = i % 3 != 1;

                if (declared && asprintf(&s.connectors[s.n_connectors++].id, "c%05zu", i) < 0)
                        abort();
                if (listed) {
                        if (asprintf(&a[n_a].id, "c%05zu", i) < 0)
                                abort();
                        a[n_a++].deleted = !declared && i % 7 == 0;
                }
                if (declared && listed)
                        want[PLAN_KEEP]++;
                else if (declared)
                        want[PLAN_MISSING]++;
                else if (i % 7 == 0)
                        want[PLAN_PROTECTED]++;
                else
                        want[PLAN_DELETE]++;
        }

        is_int(plan_build(&s, 1, a, n_a, &policy, &p), 0, "many: plan_build() succeeds");
        for (int k = 0; k < _PLAN_KIND_MAX; k++)
                is_int(p ? (intmax_t) p->counts[k] : -1, (intmax_t) want[k], "many: %s count",
                       plan_kind_to_string(k));
        bad = p ? check_invariants(p, a, n_a) : "no plan";
        if (!ok(!bad, "many: invariants"))
                diag("%s", bad);

        plan_set_done(&s);
        for (size_t i = 0; i < n_a; i++)
                plan_connector_done(a + i);
        free(a);
}

/* Orders the sort could get wrong: ids listed as given (no sets, so all unmanaged) must come out
 * in bytewise order. 'odd' is listed last and sorts first: it differs from all others in one
 * byte of a digit in which they all agree, and there are more of them than plan.c sorts by
 * insertion. */
static void test_sort_order(void) {
        static const struct {
                const char *name;
                const char *prefix; /* the many: prefix, then a number */
                const char *odd;
        } cases[] = {
                { "first digit, last byte", "aaaaaaaa", "aaaaaaa0" },
                { "first digit, first byte", "b-------", "a-------zz" },
                { "second digit", "aaaaaaaabbbbbbbb", "aaaaaaaabbbbbbb0" },
                { "a byte above 0x7f", "\xc3\xa9t\xc3\xa9----", "\xc3\xa9t\xc3\xa9---" },
                { "a prefix of another", "prefix--", "prefix--" },
                { "the empty id", "x", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(plan_freep) struct plan *p = NULL;
                struct plan_policy policy = { .max_deletions = PLAN_UNLIMITED };
                struct plan_connector a[41] = {};
                const char *bad;

                for (size_t j = 0; j < 40; j++)
                        if (asprintf(&a[j].id, "%s%02d", cases[i].prefix, (int) (40 - j)) < 0)
                                abort();
                a[40].id = strdup(cases[i].odd);
                is_int(plan_build(NULL, 0, a, 41, &policy, &p), 0, "sort, %s: plan_build() succeeds",
                       cases[i].name);
                bad = p ? check_invariants(p, a, 41) : "no plan";
                if (!ok(!bad && p->n_items == 41 && streq(p->items[0].id, cases[i].odd),
                        "sort, %s: bytewise order", cases[i].name))
                        diag("%s; first: '%s'", strna(bad), p && p->n_items > 0 ? p->items[0].id : "");
                for (size_t j = 0; j < 41; j++)
                        plan_connector_done(a + j);
        }
}

/* A brute-force planner, written from the manual's rules with no sorting cleverness, against
 * which random inputs are checked: ids built from pieces that share long prefixes (past the 8-byte
 * digits and the 256-byte depth of plan.c's sort), bytes above 0x7f, control bytes, the empty id,
 * ids declared and listed more than once. */
struct ref_item {
        enum plan_kind kind;
        const char *id;
        const char *sets[4];
        size_t n_sets;
        bool sync, hard, reason;
};

static int ref_item_cmp(const void *a, const void *b) {
        const struct ref_item *x = a, *y = b;

        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        return strcmp(x->id, y->id);
}

static int str_cmp(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static bool naive_prefix(char *const *l, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (strncmp(s, l[i], strlen(l[i])) == 0)
                        return true;
        return false;
}

static bool naive_owns(const struct plan_set *s, const struct plan_connector *c) {
        bool svc = s->n_service_types == 0;

        for (size_t i = 0; i < s->n_service_types && c->service_type; i++)
                svc = svc || strcmp(s->service_types[i], c->service_type) == 0;
        return (s->n_id_prefixes == 0 || naive_prefix(s->id_prefixes, s->n_id_prefixes, c->id)) && svc &&
               (s->n_index_name_prefixes == 0 ||
                (c->index_name &&
                 naive_prefix(s->index_name_prefixes, s->n_index_name_prefixes, c->index_name)));
}

/* Returns the expected plan, serialized without reasons, and whether it is blocked. */
static char *naive_plan(const struct input *in, bool *ret_blocked) {
        size_t n_ids = 0, n_items = 0, n_delete = 0;
        const char **ids = calloc(in->n_actual + 1, sizeof(char *));
        struct ref_item *items;
        bool blocked = false;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        for (size_t i = 0; i < in->n_sets; i++)
                n_ids += in->sets[i].n_connectors;
        ids = realloc(ids, (n_ids + in->n_actual + 1) * sizeof(char *));
        items = calloc(n_ids + in->n_actual + 1, sizeof(struct ref_item));
        n_ids = 0;
        for (size_t i = 0; i < in->n_sets; i++)
                for (size_t j = 0; j < in->sets[i].n_connectors; j++)
                        ids[n_ids++] = in->sets[i].connectors[j].id;
        for (size_t i = 0; i < in->n_actual; i++)
                ids[n_ids++] = in->actual[i].id;

        for (size_t i = 0; i < n_ids; i++) {
                const struct plan_set *decl = NULL;
                const struct plan_connector *c = NULL;
                struct ref_item *it;
                bool seen = false, no_prune = false;

                for (size_t j = 0; j < i && !seen; j++)
                        seen = strcmp(ids[j], ids[i]) == 0;
                if (seen)
                        continue;
                for (size_t s = 0; s < in->n_sets && !decl; s++)
                        for (size_t j = 0; j < in->sets[s].n_connectors && !decl; j++)
                                if (strcmp(in->sets[s].connectors[j].id, ids[i]) == 0)
                                        decl = in->sets + s;
                for (size_t j = 0; j < in->n_actual && !c; j++)
                        if (strcmp(in->actual[j].id, ids[i]) == 0)
                                c = in->actual + j;

                it = items + n_items++;
                it->id = ids[i];
                if (c)
                        for (size_t s = 0; s < in->n_sets; s++)
                                if (in->sets[s].prune_enabled && !in->sets[s].allow_empty &&
                                    in->sets[s].n_connectors == 0 && naive_owns(in->sets + s, c))
                                        blocked = true;
                if (decl) {
                        it->kind = c && !c->deleted ? PLAN_KEEP : PLAN_MISSING;
                        it->reason = c && c->deleted;
                        it->sets[it->n_sets++] = decl->name;
                        continue;
                }
                it->sync = it->hard = true;
                for (size_t s = 0; s < in->n_sets; s++)
                        if (naive_owns(in->sets + s, c)) {
                                it->sets[it->n_sets++] = in->sets[s].name;
                                it->sync = it->sync && in->sets[s].delete_sync_jobs;
                                it->hard = it->hard && in->sets[s].hard;
                                no_prune = no_prune || !in->sets[s].prune_enabled;
                        }
                qsort(it->sets, it->n_sets, sizeof(char *), str_cmp);
                if (it->n_sets == 0)
                        it->kind = PLAN_UNMANAGED;
                else if (c->deleted || no_prune)
                        it->kind = PLAN_PROTECTED;
                else {
                        it->kind = PLAN_DELETE;
                        n_delete++;
                }
                if (it->kind != PLAN_DELETE)
                        it->sync = it->hard = false;
                it->reason = it->kind == PLAN_PROTECTED;
        }
        qsort(items, n_items, sizeof(struct ref_item), ref_item_cmp);

        f = open_memstream(&buf, &size);
        if (!f)
                abort();
        for (size_t i = 0; i < n_items; i++) {
                const struct ref_item *it = items + i;

                fprintf(f, "%s%s:%s", i > 0 ? " " : "", plan_kind_to_string(it->kind), it->id);
                if (it->kind == PLAN_UNMANAGED)
                        continue;
                fputc('(', f);
                for (size_t j = 0; j < it->n_sets; j++)
                        fprintf(f, "%s%s", j > 0 ? "+" : "", it->sets[j]);
                fprintf(f, "%s%s%s)", it->sync ? ",sync" : "", it->hard ? ",hard" : "",
                        it->reason ? ": R" : "");
        }
        if (fclose(f) != 0)
                abort();
        free(items);
        free(ids);
        *ret_blocked = blocked ||
                       (in->policy.max_deletions != PLAN_UNLIMITED && n_delete > in->policy.max_deletions);
        return buf;
}

static char *random_id(void) {
        static const char *const pieces[] = {
                "a",    "b",    "B", "-", "team-", "team-a-", "0", "1", "\xc3\xa9", "\xe6\x97\xa5",
                "\xff", "\x01", "~",
        };
        char *id = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&id, &size);

        if (!f)
                abort();
        if (rng(4) == 0) /* a prefix longer than plan.c's radix depth */
                for (int i = 0; i < 300; i++)
                        fputc('p', f);
        for (size_t i = 0, n = rng(6); i < n; i++)
                fputs(pieces[rng(ELEMENTSOF(pieces))], f);
        if (fclose(f) != 0)
                abort();
        return id;
}

static char **random_strv(const char *const *from, size_t n_from, size_t max, size_t *ret_n) {
        size_t n = rng(max + 1);
        char **l = n > 0 ? calloc(n, sizeof(char *)) : NULL;

        for (size_t i = 0; i < n; i++)
                l[i] = strdup(from[rng(n_from)]);
        *ret_n = n;
        return l;
}

static void test_random(void) {
        static const char *const prefixes[] = { "team-", "team-a-", "a", "\xc3", "pppppppp", "" };
        static const char *const types[] = { "gd", "sp" };
        static const char *const index_prefixes[] = { "s-", "t" };
        static const uint64_t maxes[] = { PLAN_UNLIMITED, 0, 5, 50 };
        char *pool[150];
        bool all_same = true;

        rng_state = 0x2545f4914f6cdd1dULL;
        for (size_t i = 0; i < ELEMENTSOF(pool); i++)
                pool[i] = random_id();

        for (int round = 0; round < 300 && all_same; round++) {
                _cleanup_(plan_freep) struct plan *p = NULL;
                _cleanup_free_ char *got = NULL, *want = NULL;
                struct input in = { .policy.max_deletions = maxes[rng(ELEMENTSOF(maxes))] };
                bool want_blocked;
                const char *bad;

                in.n_sets = rng(5);
                in.sets = calloc(MAX(in.n_sets, (size_t) 1), sizeof(struct plan_set));
                for (size_t i = 0; i < in.n_sets; i++) {
                        struct plan_set *s = in.sets + i;

                        if (asprintf(&s->name, "S%zu", i) < 0)
                                abort();
                        s->id_prefixes = random_strv(prefixes, ELEMENTSOF(prefixes), 2, &s->n_id_prefixes);
                        s->service_types =
                                random_strv(types, ELEMENTSOF(types), rng(3) == 0, &s->n_service_types);
                        s->index_name_prefixes = random_strv(index_prefixes, ELEMENTSOF(index_prefixes),
                                                             rng(3) == 0, &s->n_index_name_prefixes);
                        s->prune_enabled = rng(4) != 0;
                        s->delete_sync_jobs = rng(2);
                        s->hard = rng(2);
                        s->allow_empty = rng(2);
                        s->n_connectors = rng(3) == 0 ? 0 : rng(80);
                        s->connectors =
                                calloc(MAX(s->n_connectors, (size_t) 1), sizeof(struct plan_declared));
                        for (size_t j = 0; j < s->n_connectors; j++)
                                s->connectors[j].id = strdup(pool[rng(ELEMENTSOF(pool))]);
                }
                in.n_actual = rng(250);
                in.actual = calloc(MAX(in.n_actual, (size_t) 1), sizeof(struct plan_connector));
                for (size_t i = 0; i < in.n_actual; i++) {
                        static const char *const svc[] = { NULL, "gd", "sp", "x" };
                        static const char *const idx[] = { NULL, "s-1", "t2", "u" };
                        struct plan_connector *c = in.actual + i;
                        const char *v;

                        c->id = strdup(pool[rng(ELEMENTSOF(pool))]);
                        if ((v = svc[rng(ELEMENTSOF(svc))]))
                                c->service_type = strdup(v);
                        if ((v = idx[rng(ELEMENTSOF(idx))]))
                                c->index_name = strdup(v);
                        c->deleted = rng(5) == 0;
                }

                want = naive_plan(&in, &want_blocked);
                if (plan_build(in.sets, in.n_sets, in.actual, in.n_actual, &in.policy, &p) < 0) {
                        diag("round %d: plan_build() failed", round);
                        all_same = false;
                } else {
                        got = serialize_full(p, false);
                        bad = check_invariants(p, in.actual, in.n_actual);
                        if (!streq(got, want) || !!p->blocked != want_blocked || bad) {
                                diag("round %d: %s", round, strna(bad));
                                diag("got  %s (blocked: %s)", got, strna(p->blocked));
                                diag("want %s (blocked: %s)", want, yes_no(want_blocked));
                                all_same = false;
                        }
                }
                input_done(&in);
        }
        ok(all_same, "random inputs: the same plan as a brute-force planner (300 rounds)");

        for (size_t i = 0; i < ELEMENTSOF(pool); i++)
                free(pool[i]);
}

/* plan_recheck(): one orphan of set A, decided again on the connector as read later. */
/* A purge decided again: it stays one only while the connector is still soft-deleted and owned
 * by the same sets, each purging. */
static void test_recheck_purge(void) {
        static const struct {
                const char *name;
                const char *now; /* the connector as read: "[!]ID[|SERVICE_TYPE[|INDEX_NAME]]" */
                bool declared;
                bool delete;
                const char *reason;
        } cases[] = {
                { "still soft-deleted, same sets", "!x|gd|a-1", false, true, NULL },
                { "live again", "x|gd|a-1", false, false,
                  "it is no longer soft-deleted (deleted: false): something restored it" },
                { "declared now", "!x|gd|a-1", true, false, "the manifests declare it now" },
                { "owned by another purging set", "!x|gd|b-1", false, false,
                  "the sets that own it are 'B' now, not 'A' as in the listing" },
                { "owned by a set without purge_after", "!x|gd|d-1", false, false,
                  "it is protected now: " SOFT },
                { "owned by a set that does not prune, too", "!x|keep|a-1", false, false,
                  "it is protected now: " SOFT },
        };
        struct input in;
        _cleanup_(plan_freep) struct plan *p = NULL;
        const struct row r = {
                .sets = { "A idx=a sync purge=100 decl=k", "B idx=b- purge=100 decl=k3",
                          "C svc=keep noprune decl=k4", "D idx=d- decl=k5" },
                .actual = "!x|gd|a-1",
                .grace = "0@1000",
                .deleted = "x@100",
        };
        const struct plan_item *item;

        input_parse(&r, &in);
        assert_se(plan_build(in.sets, in.n_sets, in.actual, in.n_actual, &in.policy, &p) == 0);
        item = plan_find(p, "x");
        if (!ok(item && item->kind == PLAN_DELETE && item->purge && item->hard,
                "recheck purge: x is a purge of A")) {
                input_done(&in);
                return;
        }

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct plan_connector *now = NULL;
                struct plan_recheck rc;
                size_t n_now = 0;

                parse_actual(cases[i].now, &now, &n_now);
                assert_se(n_now == 1);
                is_int(plan_recheck(in.sets, in.n_sets, item, now, cases[i].declared, &rc), 0,
                       "recheck purge, %s: returns 0", cases[i].name);
                is_int(rc.delete, cases[i].delete, "recheck purge, %s: %s", cases[i].name,
                       cases[i].delete ? "still purged" : "not purged");
                if (cases[i].delete)
                        ok(rc.hard && rc.delete_sync_jobs,
                           "recheck purge, %s: a hard delete, with the sync jobs", cases[i].name);
                is_str(rc.reason, cases[i].reason, "recheck purge, %s: reason", cases[i].name);
                plan_recheck_done(&rc);
                plan_connector_done(now);
                free(now);
        }
        input_done(&in);
}

static void test_recheck(void) {
        static const struct {
                const char *name;
                const char *now; /* the connector as read: "[!]ID[|SERVICE_TYPE[|INDEX_NAME]]" */
                bool declared;
                bool delete;
                const char *flags; /* when deleted: "sync", "hard", "sync,hard" or "" */
                const char *reason;
        } cases[] = {
                { "unchanged: still deleted, with the flags of its sets", "x|gd|a-1", false, true, "sync",
                  NULL },
                { "declared now", "x|gd|a-1", true, false, NULL, "the manifests declare it now" },
                { "moved to another set's ownership", "x|gd|b-1", false, false, NULL,
                  "the sets that own it are 'B' now, not 'A' as in the listing" },
                { "owned by one more set, also pruning", "x|gd|ab-1", false, false, NULL,
                  "the sets that own it are 'A', 'AB' now, not 'A' as in the listing" },
                { "owned by no set now", "x|gd|z-1", false, false, NULL,
                  "no set owns it now (service_type 'gd', index_name 'z-1')" },
                { "a null index name now", "x|gd", false, false, NULL,
                  "no set owns it now (service_type 'gd', index_name 'n/a')" },
                { "owned by a set that does not prune, too", "x|keep|a-1", false, false, NULL,
                  "it is protected now: set 'C' has prune.enabled: false" },
                { "soft-deleted meanwhile", "!x|gd|a-1", false, false, NULL,
                  "it is protected now: soft-deleted in the cluster (deleted: true); not deleted again" },
        };
        struct input in;
        _cleanup_(plan_freep) struct plan *p = NULL;
        const struct row r = {
                .sets = { "A idx=a sync decl=k", "AB idx=ab- sync decl=k2", "B idx=b- decl=k3",
                          "C svc=keep noprune decl=k4" },
                .actual = "x|gd|a-1",
        };
        const struct plan_item *item = NULL;

        input_parse(&r, &in);
        assert_se(plan_build(in.sets, in.n_sets, in.actual, in.n_actual, &in.policy, &p) == 0);
        for (size_t i = 0; i < p->n_items; i++)
                if (streq(p->items[i].id, "x"))
                        item = p->items + i;
        if (!ok(item && item->kind == PLAN_DELETE, "recheck: x is an orphan of A to delete")) {
                input_done(&in);
                return;
        }

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct plan_connector *now = NULL;
                struct plan_recheck rc;
                size_t n_now = 0;
                char flags[16];

                parse_actual(cases[i].now, &now, &n_now);
                assert_se(n_now == 1);
                is_int(plan_recheck(in.sets, in.n_sets, item, now, cases[i].declared, &rc), 0,
                       "recheck, %s: returns 0", cases[i].name);
                is_int(rc.delete, cases[i].delete, "recheck, %s: %s", cases[i].name,
                       cases[i].delete ? "still deleted" : "not deleted");
                (void) snprintf(flags, sizeof flags, "%s%s%s", rc.delete_sync_jobs ? "sync" : "",
                                rc.delete_sync_jobs && rc.hard ? "," : "", rc.hard ? "hard" : "");
                if (cases[i].delete)
                        is_str(flags, cases[i].flags, "recheck, %s: flags", cases[i].name);
                is_str(rc.reason, cases[i].reason, "recheck, %s: reason", cases[i].name);
                plan_recheck_done(&rc);
                plan_connector_done(now);
                free(now);
        }
        input_done(&in);
}

int main(void) {
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                test_row(rows + i, i);
        test_recheck();
        test_recheck_purge();
        test_invalid_input();
        test_kind_to_string();
        test_done();
        test_many();
        test_sort_order();
        test_random();
        return done();
}

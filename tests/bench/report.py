#!/usr/bin/python3
# The benchmarks' figures (tests/bench/bench.sh): medians, ratios, goals, one table on stdout and
# the Markdown report.
#
#     report.py callgrind NAME INCLUSIVE SELF    the profile lines of one callgrind run
#     report.py report OUT REPORT NOTES          the table, and REPORT written from OUT's files
import csv
import os
import re
import statistics
import sys

MIB = 1024.0

# The steps of a cycle, by the function whose inclusive cost is the step's.
STEPS = (
    ("manifest_load", "loading the manifests"),
    ("list_page_done", "listing: decoding the pages, paging"),
    ("write_callback", "listing and reading: receiving bodies"),
    ("cluster_lister_finish", "listing: merging the pages"),
    ("plan_build", "planning"),
    ("get_done", "per orphan: decoding the document read for the backup"),
    ("on_document", "per orphan: the document queued for its backup"),
    ("writer_main", "per orphan: writing the backups, in batches with one folder sync each (the writer thread)"),
    ("batch_done", "per orphan: each backup's outcome logged, its DELETE queued"),
    ("on_deleted", "per orphan: the DELETE's answer, logging"),
)
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.+?)\s+\[(.+)\]\s*$")


def read_annotate(path):
    """callgrind_annotate's lines: (count, file, function, object), and the program total."""
    total, rows = None, []
    with open(path) as f:
        for line in f:
            if "PROGRAM TOTALS" in line:
                total = int(line.split()[0].replace(",", ""))
                continue
            m = LINE.match(line)
            if not m:
                continue
            where = m.group(3)
            file, _, func = where.partition(":") if not where.startswith("???:") else ("???", "", where[4:])
            func = re.sub(r"'\d+$", "", func)
            rows.append((int(m.group(1).replace(",", "")), file, func, os.path.basename(m.group(4))))
    return total, rows


def callgrind(name, inclusive, self_):
    total, inc = read_annotate(inclusive)
    _, own = read_annotate(self_)
    inc_by = {}
    for count, _, func, _ in inc:
        # Keep the outermost entry of a recursive function (the largest).
        inc_by[func] = max(inc_by.get(func, 0), count)
    self_by = {}
    for count, _, func, _ in own:
        self_by[func] = self_by.get(func, 0) + count
    for func, _ in STEPS:
        if func in inc_by:
            print("%s\t%s\t%d\t%d\t%d" % (name, func, inc_by[func], self_by.get(func, 0), total))
    # The largest costs by the functions' own instructions.
    for count, _, func, obj in sorted(own, key=lambda r: -r[0])[:12]:
        label = func if not func.startswith("0x") else "%s in %s" % (func, obj)
        print("%s\tself:%s\t%d\t%d\t%d" % (name, label, inc_by.get(func, 0), count, total))


def read_tsv(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def med(values):
    return statistics.median(values) if values else None


def fmt(v, spec="%.2f"):
    return "n/a" if v is None else spec % v


def report(out, report_path, notes_path):
    machine = dict(line.rstrip("\n").split("\t", 1) for line in open(os.path.join(out, "machine.tsv")))
    runs = read_tsv(os.path.join(out, "runs.tsv"))
    ceiling = {}
    for r in read_tsv(os.path.join(out, "ceiling.tsv")):
        ceiling.setdefault(r["size"], []).append(r)
    core = {(r["what"], r["key"]): r["value"] for r in read_tsv(os.path.join(out, "core.tsv"))}
    profile = read_tsv(os.path.join(out, "profile.tsv"))
    idle = {}
    if os.path.exists(os.path.join(out, "idle.tsv")):
        for line in open(os.path.join(out, "idle.tsv")):
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 4:
                idle[(parts[0], parts[1], parts[2])] = parts[3]

    sizes = []
    for r in runs:
        if int(r["size"]) not in sizes:
            sizes.append(int(r["size"]))
    # The previous build (BENCH_PREVIOUS), when it ran: a third tool.
    previous = bool(machine.get("previous")) or any(r["tool"] == "previous" for r in runs)
    tools = ("reconciler", "baseline", "previous") if previous else ("reconciler", "baseline")
    names = {"reconciler": "connector-reconciler", "baseline": "baseline.sh",
             "previous": "connector-reconciler, previous build"}

    # Per size and tool: medians of the runs that did the whole job.
    rows = {}
    for n in sizes:
        for tool in tools:
            rs = [r for r in runs if int(r["size"]) == n and r["tool"] == tool]
            good = [r for r in rs if r["verified"] == "yes"]
            row = {"runs": len(rs), "good": len(good),
                   "note": next((r["note"] for r in rs if r["verified"] != "yes" and r["note"]), "")}
            if good:
                row["wall"] = med([float(r["wall_s"]) for r in good])
                row["user"] = med([float(r["user_s"]) for r in good])
                row["sys"] = med([float(r["sys_s"]) for r in good])
                row["cpu"] = med([float(r["user_s"]) + float(r["sys_s"]) for r in good])
                row["rss"] = med([int(r["maxrss_kb"]) / MIB for r in good])
                row["requests"] = med([int(r["requests"]) for r in good])
                row["rate"] = med([int(r["requests"]) / float(r["wall_s"]) for r in good])
                row["walls"] = [float(r["wall_s"]) for r in good]
            rows[(n, tool)] = row
        cs = [c for c in ceiling.get(str(n), []) if float(c["span_s"]) > 0]
        if cs:
            rows[(n, "ceiling")] = {"requests": int(med([int(c["requests"]) for c in cs])),
                                    "rate": med([int(c["requests"]) / float(c["span_s"]) for c in cs]),
                                    "runs": len(cs)}

    def ratio(n, key):
        a, b = rows[(n, "reconciler")].get(key), rows[(n, "baseline")].get(key)
        return b / a if a and b else None

    def ratio_previous(n, key):
        """This build's median over the previous build's: below 1, this build spends less."""
        if not previous:
            return None
        a, b = rows[(n, "reconciler")].get(key), rows[(n, "previous")].get(key)
        return a / b if a and b else None

    # The table on stdout.
    head = "%-7s %-11s %6s %9s %9s %9s %10s %9s %8s  %s" % (
        "size", "tool", "rounds", "wall s", "CPU s", "(sys s)", "peak MiB", "requests", "req/s", "")
    lines = [head, "-" * len(head)]
    for n in sizes:
        for tool in tools:
            r = rows[(n, tool)]
            if "wall" in r:
                lines.append("%-7d %-11s %6d %9.2f %9.2f %9.2f %10.1f %9d %8.0f" % (
                    n, tool, r["good"], r["wall"], r["cpu"], r["sys"], r["rss"], r["requests"], r["rate"]))
            else:
                lines.append("%-7d %-11s %6d %9s   did not do the job: %s" % (n, tool, r["runs"], "-", r["note"]))
        rw, rc = ratio(n, "wall"), ratio(n, "cpu")
        if rw:
            lines.append("%-7d %-11s %6s %8.1fx %8.1fx" % (n, "ratio", "", rw, rc))
        pw, pc, pm = ratio_previous(n, "wall"), ratio_previous(n, "cpu"), ratio_previous(n, "rss")
        if pw:
            lines.append("%-7d %-11s %6s %8.2fx %8.2fx %9s %9.2fx  %s" % (
                n, "this/prev", "", pw, pc, "", pm, "this build / previous"))
        c = rows.get((n, "ceiling"))
        if c:
            frac = rows[(n, "reconciler")].get("rate")
            lines.append("%-7d %-11s %6s %9s %9s %9s %10s %9d %8.0f  %s" % (
                n, "ceiling", "", "", "", "", "", c["requests"], c["rate"],
                "reconciler at %.0f%%" % (100 * frac / c["rate"]) if frac else ""))
    if previous:
        lines.append("previous: %s (%s)" % (machine.get("previous", "?"),
                                            machine.get("previous_version", "?").split(";")[0]))
    table = "\n".join(lines)
    print(table)

    # Goals.
    def run_row(n):
        return rows.get((n, "reconciler"), {})

    goals = []
    r10 = run_row(10000)
    if (10000, "reconciler") in rows:
        rw, rc = ratio(10000, "wall"), ratio(10000, "cpu")
        goals.append(("10,000 connectors: at least 10x faster than the baseline (wall)",
                      "%.1fx" % rw if rw else "not measured: the runs did not do the job (see Results)", rw is not None and rw >= 10))
        goals.append(("10,000 connectors: at least 20x less CPU than the baseline",
                      "%.1fx" % rc if rc else "not measured: the runs did not do the job (see Results)", rc is not None and rc >= 20))
        goals.append(("peak RSS at 10,000 connectors at most 24 MiB",
                      fmt(r10.get("rss"), "%.1f MiB") if "rss" in r10 else "not measured: the runs did not do the job (see Results)",
                      r10.get("rss") is not None and r10["rss"] <= 24))
    r50 = run_row(50000)
    if (50000, "reconciler") in rows:
        goals.append(("peak RSS at 50,000 connectors at most 40 MiB",
                      fmt(r50.get("rss"), "%.1f MiB") if "rss" in r50 else "not measured: the runs did not do the job (see Results)",
                      r50.get("rss") is not None and r50["rss"] <= 40))
    for key, name in (("nowatchdog", "WATCHDOG_USEC unset"), ("watchdog", "WATCHDOG_USEC=30s")):
        anon = idle.get((key, "RssAnon", "after"))
        if anon:
            kb = int(anon.split()[0])
            goals.append(("idle `run` daemon (%s): RssAnon at most 4 MiB" % name, "%.1f MiB" % (kb / MIB),
                          kb <= 4 * 1024))
    wake = {}
    for key in ("nowatchdog", "watchdog"):
        b = idle.get((key, "voluntary_ctxt_switches", "before"))
        a = idle.get((key, "voluntary_ctxt_switches", "after"))
        if a is not None and b is not None:
            p = int(idle.get((key, "watchdog_pings", "after"), 0)) - int(idle.get((key, "watchdog_pings", "before"), 0))
            wake[key] = (int(a) - int(b), p)
    if len(wake) == 2:
        (w0, _), (w1, p1) = wake["nowatchdog"], wake["watchdog"]
        goals.append(("idle `run` daemon: no wakeups but its timers and the watchdog (%s s, interval 10m)"
                      % machine.get("idle_seconds", "60"),
                      "%d wakeups without the watchdog; %d with it, for %d WATCHDOG=1 sent" % (w0, w1, p1),
                      w0 == 0 and w1 <= p1))
    ld = core.get(("load", "median_ms"))
    if ld:
        goals.append(("loading 10,000 declared connectors from 50 files under 50 ms", "%s ms" % ld,
                      float(ld) < 50))
    pl = core.get(("plan", "median_ms"))
    if pl:
        goals.append(("planning 50,000 against 50,000 under 50 ms", "%s ms" % pl, float(pl) < 50))

    idle_lines = []
    for key, name in (("nowatchdog", "WATCHDOG_USEC unset"), ("watchdog", "WATCHDOG_USEC=30000000 (WatchdogSec=30s)")):
        b = idle.get((key, "voluntary_ctxt_switches", "before"))
        a = idle.get((key, "voluntary_ctxt_switches", "after"))
        nb = idle.get((key, "nonvoluntary_ctxt_switches", "before"))
        na = idle.get((key, "nonvoluntary_ctxt_switches", "after"))
        if a is None or b is None:
            idle_lines.append("| %s | not measured | | | | |" % name)
            continue
        perf = idle.get((key, "sched_switch", "perf"), "n/a")
        pings = int(idle.get((key, "watchdog_pings", "after"), 0)) - int(idle.get((key, "watchdog_pings", "before"), 0))
        idle_lines.append("| %s | %s | %d | %d | %s | %s |" % (
            name, idle.get((key, "RssAnon", "after"), "n/a"), int(a) - int(b), int(na) - int(nb), perf, pings))

    prof_lines = []
    prof_top = []
    for r in profile:
        run, func = r["run"], r["function"]
        inc, own, total = int(r["inclusive"]), int(r["self"]), int(r["total"])
        what, n = run.rsplit("-", 1)
        n = int(n)
        if func.startswith("self:"):
            prof_top.append("| `%s` | `%s` | %s | %.1f%% |" % (what, func[5:], "{:,}".format(own), 100.0 * own / total))
            continue
        label = dict(STEPS).get(func, func)
        per = inc / (n / 2 if func in ("get_done", "on_document", "writer_main", "batch_done", "on_deleted") else n)
        prof_lines.append("| `%s` | %s (`%s`) | %s | %.1f%% | %s |" % (
            what, label, func, "{:,}".format(inc), 100.0 * inc / total, "{:,.0f}".format(per)))

    core_lines = []
    for what, key, goal in (("load", "declared", "loading 10,000 declared connectors from 50 files"),
                            ("list", "connectors", "decoding one list page of 100 whole connector documents"),
                            ("listf", "connectors", "decoding one list page of 100 connectors as the reconciler "
                             "asks for it (filter_path: the five fields it reads)"),
                            ("plan", "listed", "planning 50,000 listed against 50,000 declared")):
        if (what, "median_ms") not in core:
            continue
        n = int(core.get((what, key), 1))
        ins = int(core.get((what, "instructions"), 0))
        core_lines.append("| %s | %s ms | %s ms | %s | %s |" % (
            goal, core[(what, "median_ms")], core[(what, "min_ms")], "{:,}".format(ins),
            "{:,.0f}".format(ins / n) if n else "n/a"))

    md = []
    md.append("# Benchmarks")
    md.append("")
    md.append("Written by `make bench` (tests/bench/bench.sh); do not edit by hand: the findings at the end "
              "come from tests/bench/notes.md.")
    md.append("")
    md.append("## How they were run")
    md.append("")
    md.append("    make bench BENCH_SIZES=\"%s\"%s" % (
        machine.get("sizes", ""), " BENCH_PREVIOUS=%s" % machine.get("previous") if previous else ""))
    md.append("")
    md.append("- Machine: %s CPUs (%s), %s memory, Linux %s, %s; backups on %s." % (
        machine.get("nproc"), machine.get("cpu"), machine.get("memory"), machine.get("kernel"), machine.get("os"),
        machine.get("backup_fs") or "n/a"))
    md.append("- Tools: %s, %s, jq %s, %s, %s, %s." % (
        machine.get("reconciler"), machine.get("curl"), machine.get("jq", "").replace("jq-", ""),
        machine.get("python3"), machine.get("wrk"), machine.get("valgrind")))
    md.append("- Run on %s; the whole run took %s s." % (machine.get("date"), machine.get("total_seconds", "?")))
    md.append("- Scenarios (tests/bench/gen-scenario.py): N connectors as full Elasticsearch connector documents "
              "(google_drive and sharepoint_online configurations with every field's display, label, order, "
              "required, sensitive, tooltip, type, ui_restrictions, validations and value; features, filtering "
              "with active and draft rules, pipeline, scheduling, last_* fields; about 7.5 KiB each), half of them "
              "declared across 50 manifest files (one ConnectorSet each, selecting by id prefix, service types and "
              "index name prefix, delete_sync_jobs: true), half orphans.")
    md.append("- Each run starts a fresh fake cluster (tests/fake/fake-cluster, Elasticsearch 9.1.3, request log on) "
              "with the scenario, then runs one tool: `connector-reconciler once` (concurrency: 4, "
              "max_deletions: unlimited, console log to a file) or tests/bench/baseline.sh (curl, jq and "
              "python3-yaml, `xargs -P 4 curl`; see the script's header for what it skips). Rounds alternate "
              "which tool goes first; figures are medians over the rounds. A run counts only when the fake's log "
              "shows exactly the orphans deleted and the backup folder holds one backup per orphan.")
    md.append("- 10,000 connectors and more: the fake runs with `--max-result-window` at twice the count "
              "(`index.max_result_window`, which an operator can raise on the connector index). Below that "
              "neither tool can list them all: Elasticsearch counts hits exactly only up to 10,000, so even "
              "exactly 10,000 connectors cannot be proven a whole listing within the default window. The "
              "reconciler was told the raised window through `cluster.%s`." % machine.get("window_key")
              if machine.get("window_key") != "none" else
              "- 10,000 connectors and more: the fake runs with `--max-result-window` at twice the count "
              "(`index.max_result_window`, which an operator can raise on the connector index). This "
              "connector-reconciler has no setting for a raised window, so it refuses such listings (by design: "
              "it says so and deletes nothing); Elasticsearch counts hits exactly only up to 10,000, so even "
              "exactly 10,000 connectors cannot be proven a whole listing within the default window.")
    md.append("- CPU time is user + system of the tool and every process it started (`/usr/bin/time`); peak RSS "
              "is `/usr/bin/time -f %M`: for the baseline, that of its largest single process. Requests per "
              "second: the requests the fake served over the tool's wall time.")
    md.append("- Ceiling: the fake cluster under wrk (tests/bench/mix.lua: 1 thread, 4 keep-alive connections) "
              "sending the same mix (for each orphan a GET then a DELETE, and one list page per 100 connectors), "
              "rate taken from the fake's request log (first to last request).")
    if previous:
        known = lambda key: machine.get(key, "none") != "none"
        md.append("- Previous build (`BENCH_PREVIOUS`): `%s` (sha256 %s..., this build's %s...), whose `version` "
                  "says: %s. It ran as a third tool, `once` as above, in every round, with the same scenario, "
                  "concurrency and checks; the rounds rotate the order of the three tools, so that none always "
                  "goes first. Its config has only the keys its `validate` accepted: state_dir %s, "
                  "cluster.max_result_window %s. \"this build / previous\" divides this build's medians by the "
                  "previous build's (wall, CPU, peak RSS): below 1, this build spends less." % (
                      machine.get("previous"), machine.get("previous_sha256", "?"),
                      machine.get("reconciler_sha256", "?"), machine.get("previous_version", "?"),
                      "written" if known("previous_state_key") else "left out",
                      "written" if known("previous_window_key") else
                      "left out (so it refuses listings past the default window)"))
    md.append("")
    md.append("## Results")
    md.append("")
    md.append("| connectors | tool | rounds | wall s | CPU s (user + sys) | peak RSS MiB | requests | requests/s |")
    md.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in sizes:
        for tool in tools:
            r = rows[(n, tool)]
            name = names[tool]
            if "wall" in r:
                md.append("| %d | %s | %d | %.2f | %.2f (%.2f + %.2f) | %.1f | %d | %.0f |" % (
                    n, name, r["good"], r["wall"], r["cpu"], r["user"], r["sys"], r["rss"], r["requests"], r["rate"]))
            else:
                md.append("| %d | %s | %d | did not do the job: %s | | | | |" % (n, name, r["runs"], r["note"]))
        rw, rc = ratio(n, "wall"), ratio(n, "cpu")
        if rw:
            md.append("| %d | baseline / reconciler | | %.1fx | %.1fx | | | |" % (n, rw, rc))
        pw, pc, pm = ratio_previous(n, "wall"), ratio_previous(n, "cpu"), ratio_previous(n, "rss")
        if pw:
            md.append("| %d | this build / previous | | %.2fx | %.2fx | %.2fx | | |" % (n, pw, pc, pm))
        c = rows.get((n, "ceiling"))
        if c:
            frac = rows[(n, "reconciler")].get("rate")
            md.append("| %d | ceiling (wrk) | %d | | | | %d | %.0f%s |" % (
                n, c["runs"], c["requests"], c["rate"], " (reconciler at %.0f%%)" % (100 * frac / c["rate"]) if frac else ""))
    md.append("")
    md.append("Wall times of each round (s): " + "; ".join(
        "%d %s: %s" % (n, t, ", ".join("%.2f" % w for w in rows[(n, t)].get("walls", [])) or "none")
        for n in sizes for t in tools) + ".")
    md.append("")
    md.append("## Goals")
    md.append("")
    md.append("| goal | measured | met |")
    md.append("| --- | --- | --- |")
    for g, v, ok in goals:
        md.append("| %s | %s | %s |" % (g, v, "yes" if ok else "**no**"))
    md.append("")
    md.append("## The steps on their own")
    md.append("")
    md.append("tests/bench/bench-core runs the daemon's own code (it links the daemon's library): `manifest_load()` "
              "of tests/bench/gen-manifests.sh's 50 files declaring 10,000 connectors, and `plan_build()` of "
              "50,000 declared connectors in 50 sets against 50,000 listed ones (half of them declared: 25,000 "
              "to delete, 25,000 to keep, 25,000 missing), and `cluster_decode_list_page()` of one page of the "
              "1,000 connector scenario, whole and filtered down to the fields the reconciler asks for. Wall times are medians of 21 runs; instructions are "
              "callgrind's count for one run (`--toggle-collect` on the function).")
    md.append("")
    md.append("| step | median | fastest | instructions | per connector |")
    md.append("| --- | ---: | ---: | ---: | ---: |")
    md.extend(core_lines)
    md.append("")
    md.append("## Where the instructions go")
    md.append("")
    if prof_lines:
        n_prof = profile[0]["run"].rsplit("-", 1)[1]
        md.append("`connector-reconciler plan` (manifests, listing, planning) and `once` (the same, then a backup "
                  "and a DELETE per orphan) under `valgrind --tool=callgrind` on the scenario of %s connectors; "
                  "inclusive counts of the function that does each step (callgrind_annotate --inclusive=yes), per "
                  "listed connector (per orphan for the per-orphan steps)." % n_prof)
        md.append("")
        md.append("| run | step | instructions | share | per connector |")
        md.append("| --- | --- | ---: | ---: | ---: |")
        md.extend(prof_lines)
        md.append("")
        md.append("The largest costs by the function's own instructions:")
        md.append("")
        md.append("| run | function | instructions | share |")
        md.append("| --- | --- | ---: | ---: |")
        md.extend(prof_top)
    md.append("")
    md.append("## The idle daemon")
    md.append("")
    md.append("`connector-reconciler run` with `interval: 10m` after its first cycle (the 1,000 connector scenario), "
              "watched for %s s while the other benchmarks ran: its RssAnon, its voluntary context switches (each "
              "one a wakeup from sleep), and `perf stat -e sched:sched_switch` on it. NOTIFY_SOCKET is set in "
              "both runs (tests/notify-recorder.py)." % machine.get("idle_seconds", "60"))
    md.append("")
    md.append("| run | RssAnon | voluntary switches | involuntary switches | perf sched_switch | WATCHDOG=1 sent |")
    md.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    md.extend(idle_lines)
    md.append("")
    if notes_path and os.path.exists(notes_path):
        md.append(open(notes_path).read().rstrip("\n"))
        md.append("")

    os.makedirs(os.path.dirname(os.path.abspath(report_path)), exist_ok=True)
    with open(report_path, "w") as f:
        f.write("\n".join(md))
    print()
    for g, v, ok in goals:
        print("%-75s %-22s %s" % (g, v, "met" if ok else "NOT MET"))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "callgrind":
        callgrind(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: report.py callgrind NAME INCLUSIVE SELF | report OUT REPORT NOTES")


if __name__ == "__main__":
    main()

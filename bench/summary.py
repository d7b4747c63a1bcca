"""bench/run's summary: the markdown table of one invocation, then the run's checks.

usage: summary.py OUT STAMP ROWS PROFILE SMOKE SECONDS

ROWS lists the invocation's results in order, one `NAME BASELINE` a line: BASELINE is the
result whose rps NAME's rps is divided by, `-` for none, `~` for a figure that is not a wrk
run (listed below the table). Writes OUT/STAMP-summary.md and prints it; exits non-zero
when a check fails (a scenario that errored, a limiter that rejected, a stock that oversold).
"""

import json
import os
import sys

out, stamp, rows_file, profile, smoke, seconds = sys.argv[1:7]
smoke = bool(smoke)


def load(name):
    with open(f"{out}/{stamp}-{name}.json") as f:
        return json.load(f)


rows = [line.split() for line in open(rows_file) if line.strip()]
results = {name: load(name) for name, _ in rows}


def ms(value):
    return f"{value:.2f}" if isinstance(value, (int, float)) else "—"


def flat(value, prefix=""):
    if isinstance(value, dict):
        return [part for k, v in value.items() for part in flat(v, f"{prefix}{k}.")]
    if isinstance(value, float):
        value = round(value, 2)
    return [f"{prefix[:-1]} {value}"]


# A wrk run's own fields; whatever a scenario adds goes to the notes column.
WRK = {"requests", "duration_s", "rps", "p50_ms", "p90_ms", "p99_ms", "errors", "non_2xx", "statuses"}


def machine():
    cpus = os.cpu_count()
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), "unknown CPU")
    load_avg = open("/proc/loadavg").read().split()[:3]
    return f"{cpus} cores ({model}), load average at the end {' '.join(load_avg)}"


lines = [
    f"# bench/run {stamp}{' (smoke)' if smoke else ''}", "",
    f"{profile} build, {machine()}, {seconds} s in all.",
    "Ratios divide a scenario's rps by its baseline's from this same invocation",
    "(hello: bare poem; select: poem + one SELECT by SKU).",
    "", "| scenario | rps | p50 ms | p99 ms | errors / non-2xx | baseline | ratio | notes |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
]
figures = []
for name, baseline in rows:
    r = results[name]
    if "rps" not in r:
        figures.append(f"- **{name}**: " + ", ".join(flat(r)))
        continue
    ratio, base = "—", "—"
    if baseline not in ("-", "~") and baseline in results and results[baseline]["rps"] > 0:
        base = baseline
        ratio = f"{r['rps'] / results[baseline]['rps']:.0%}"
    errors = f"{r['errors']} / {r['non_2xx']}" if "errors" in r else "—"
    notes = ", ".join(flat({k: v for k, v in r.items() if k not in WRK}))
    lines.append(f"| {name} | {r['rps']:,.0f} | {ms(r.get('p50_ms'))} | {ms(r.get('p99_ms'))} "
                 f"| {errors} | {base} | {ratio} | {notes} |")
lines += ["", "Other figures:", "", *figures, ""]
text = "\n".join(lines)
with open(f"{out}/{stamp}-summary.md", "w") as f:
    f.write(text)
print(text)

# Checks: the harness measured what it meant to. Failures name the scenario.
failures = []


def check(ok, name, what):
    if not ok:
        failures.append(f"{name}: {what}: {json.dumps(results.get(name))}")


for name, baseline in rows:
    r = results[name]
    if "requests" not in r:
        continue
    check(r["requests"] > 0, name, "no requests completed")
    if name.startswith("scale_"):
        continue  # errors and RSS at 10,000 connections are figures, not harness faults
    check(r["errors"] == 0, name, "socket errors or timeouts")
    if name.startswith("limiter_"):
        continue  # an unmatched path on purpose: every answer is a 404
    if name.startswith("mix_"):
        check(r["limited"] == 0, name, "the rate limiter set the pace (429s)")
        check(r["reads_ok"] + r["orders_accepted"] == r["requests"], name, "answers other than 200/202")
    elif name.startswith("flash_"):
        # Every answer a 202: a 429 would mean the limits, not levee, set the pace.
        check(r["accepted"] == r["requests"], name, "answers other than 202")
        check(r["oversold"] == 0 and r["stock_reconciles"], name, "the stock does not reconcile")
        # No provider declines here: the stock sells out or every order completes.
        check(r["completed"] == min(r["stock"], r["placed"]), name, "completed orders")
    else:
        check(r["non_2xx"] == 0, name, "answers other than 2xx")
for name in ("posts_cached_sqlite_hit_ratio", "posts_cached_pg_hit_ratio"):
    if name in results and not smoke:
        check(results[name]["hit_ratio"] >= 0.85, name, "hit ratio below the 85% target")
if "posts_replica_pg_routing" in results:
    routing = results["posts_replica_pg_routing"]
    check(routing["replica_reads"] > routing["primary_reads"], "posts_replica_pg_routing", "reads not on the replica")
for name in ("jobs_sqlite", "jobs_pg"):
    if name in results:
        r = results[name]
        check(r["jobs_per_second"] > 0 and r["pickup_latency_ms"]["samples"] > 0, name, "no jobs measured")
if "outage" in results:
    check(results["outage"]["read_errors"] == 0, "outage", "the read failed during the outage")
    if not smoke:
        check(results["outage"]["breaker_state"] == 2, "outage", "the payment breaker did not open")
if failures:
    sys.exit("bench failed:\n" + "\n".join(failures))
print("bench ok")

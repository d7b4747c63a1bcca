# Shared by bench/run's scenarios (sourced, not run). Expects $bin, $work, $out, $stamp,
# $duration and the array $conns set by bench/run.

# result NAME: the JSON file of one scenario.
result() { echo "$out/$stamp-$1.json"; }

# show NAME: prints a scenario's result line.
show() { printf '%-28s %s\n' "$1" "$(cat "$(result "$1")")"; }

# figure NAME: lists a result that is not a wrk run (jobs/s, hashes, RSS…) in the summary.
figure() {
  echo "$1 ~" >>"$work/rows"
  show "$1"
}

# measure NAME BASELINE WRK_ARGS...: one wrk run with the JSON summary, saved as NAME;
# BASELINE (a result name, or - for none) is what the summary divides its rps by. wrk's
# timeout is 10 s (its 2 s default counted slow orders at 512 connections on a busy machine
# as socket errors); a later --timeout in WRK_ARGS wins.
measure() {
  local name=$1 baseline=$2; shift 2
  wrk --timeout 10s "$@" | tail -n1 >"$(result "$name")"
  echo "$name $baseline" >>"$work/rows"
  show "$name"
}

# at_levels NAME BASELINE WRK_ARGS...: measure at each level of $conns (2 wrk threads) as
# NAME_c<connections>, against BASELINE_c<connections>.
at_levels() {
  local name=$1 baseline=$2 c; shift 2
  for c in "${conns[@]}"; do
    measure "${name}_c$c" "$( [ "$baseline" = - ] && echo - || echo "${baseline}_c$c")" \
      -t2 -c"$c" -d"$duration" "$@"
  done
}

# wait_http URL LOG: until URL answers 2xx (10 s), or fail showing LOG.
wait_http() {
  for _ in $(seq 1 200); do curl -fs "$1" >/dev/null && return; sleep 0.05; done
  echo "no answer from $1:"; cat "$2"; exit 1
}

# start_levee [VAR=value ...]: a fresh levee on a free port in a fresh directory (so a
# fresh SQLite database unless a URL is given); sets $base, $levee_dir and $pid.
start_levee() {
  levee_dir=$(mktemp -d -p "$work")
  start_levee_in "$levee_dir" "$@"
}

# start_levee_in DIR [VAR=value ...]: the same in DIR (reusing its database).
start_levee_in() {
  local dir=$1 port; shift
  port=$(free_port)
  levee_dir=$dir
  levee_env=("$@")
  (cd "$dir" && exec env LEVEE_SERVER__PORT="$port" LEVEE_LOG__LEVEL=warn LEVEE_LOG__FORMAT=json "$@" "$bin" serve >"$dir/serve.log" 2>&1) &
  pid=$!
  base="http://127.0.0.1:$port"
  wait_http "$base/ready" "$dir/serve.log"
}

stop_levee() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  pid=
}

# seed ARGS...: `levee seed` against the running levee's directory and database (the
# LEVEE_* variables it was started with, kept in $levee_env).
seed() {
  (cd "$levee_dir" && env "${levee_env[@]}" LEVEE_LOG__LEVEL=warn "$bin" seed "$@" >/dev/null)
}

# rss_kib FIELD: VmRSS (now) or VmHWM (peak) of the running levee, in KiB.
rss_kib() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$pid/status"; }

# fresh_pg NAME: drops and creates database NAME on the local PostgreSQL; prints its URL.
fresh_pg() {
  PGOPTIONS="--client-min-messages=warning" psql -q -h 127.0.0.1 -U postgres \
    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
  echo "postgres://postgres@127.0.0.1:5432/$1"
}

# no_rejections NAME: the limiter scenarios must measure cost, never turn requests away.
no_rejections() {
  # grep -c reads to the end (grep -q would stop early, failing curl's write under pipefail).
  if [ "$(curl -fs "$base/metrics" | grep -c 'levee_rate_limit_decisions_total{.*decision="rejected"')" != 0 ]; then
    echo "$1: the limiter rejected requests; the scenario's quota is too small"; exit 1
  fi
}

# hit_ratio NAME: share of post cache lookups answered without the database, from /metrics.
hit_ratio() {
  curl -fs "$base/metrics" | awk '
    /^levee_cache_requests_total/ && /namespace="post"/ { n = $NF; total += n; if ($0 !~ /tier="db"/) hits += n }
    END { printf "{\"lookups\": %d, \"hit_ratio\": %.4f}\n", total, (total > 0 ? hits / total : 0) }' >"$(result "$1_hit_ratio")"
  figure "$1_hit_ratio"
}

# start_baseline ARGS...: levee-bench-baseline on a free port; sets $base and $pid.
start_baseline() {
  local mode=$1 port; shift
  port=$(free_port)
  "$baseline_bin" "$mode" "$port" "$@" >"$work/baseline-$mode.log" 2>&1 &
  pid=$!
  base="http://127.0.0.1:$port"
  wait_http "$base/${probe:-hello}" "$work/baseline-$mode.log"
}

# pgbench_run NAME DATABASE CLIENTS: pgbench -S (select-only, one primary-key SELECT per
# transaction) for $duration, as tps and mean latency.
pgbench_run() {
  local name=$1 db=$2 clients=$3 secs=${duration%s}
  pgbench -S -n -c "$clients" -j 2 -T "$secs" -h 127.0.0.1 -U postgres "$db" 2>/dev/null | awk -v c="$clients" '
    /^tps = / { tps = $3 } /^latency average = / { lat = $4 }
    END { printf "{\"tps\": %.1f, \"rps\": %.1f, \"latency_avg_ms\": %.3f, \"clients\": %d}\n", tps, tps, lat, c }' >"$(result "$name")"
  figure "$name"
}

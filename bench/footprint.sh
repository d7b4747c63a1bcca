# bench/run's connection scale, cold start and footprint (sourced).

# $scale_conns concurrent keep-alive connections on /health (SQLite, limits off): wrk opens
# them all, then each sends its next request as soon as the last is answered. Peak RSS is
# the process's high-water mark (VmHWM) after the run.
start_levee LEVEE_RATE_LIMIT__ENABLED=false
scale_idle=$(rss_kib VmRSS)
measure scale_health - -t2 -c"$scale_conns" -d"$scale_duration" -s bench/json-summary.lua "$base/health"
python3 - "$(result scale_health)" "$scale_conns" "$scale_idle" "$(rss_kib VmHWM)" <<'PY'
import json, sys
path, conns, idle, peak = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
run = json.load(open(path))
run.update({"connections": conns, "idle_rss_kib": idle, "peak_rss_kib": peak,
            "kib_per_connection": round((peak - idle) / conns, 1)})
json.dump(run, open(path, "w"))
PY
stop_levee

# From exec to the first 200 on /ready: on a fresh SQLite database (created and migrated
# by that start) and on the same database again (already migrated).
python3 bench/coldstart.py "$bin" "$work" "$coldstart_rounds" >"$(result coldstart)"
figure coldstart

echo "{\"binary_bytes\": $(stat -c %s "$bin"), \"profile\": \"$profile\", \"idle_rss_kib\": $idle_rss,
  \"peak_rss_kib_sqlite_after_login\": $sqlite_peak, \"peak_rss_kib_pg_cached\": ${pg_peak:-null}}" \
  | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' >"$(result footprint)"
figure footprint

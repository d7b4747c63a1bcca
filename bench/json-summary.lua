-- wrk script: print the run as one JSON line (used for GET endpoints). A script that loads
-- this one may define summary_extra(), returning more `"name": value` pairs for the line.
-- With BENCH_PACE_MS set, each connection pauses that long between requests, so a run
-- measures latency at a steady load rather than at saturation.
local pace = tonumber(os.getenv("BENCH_PACE_MS") or "")
if pace then
  delay = function() return pace end
end
done = function(summary, latency, requests)
  local extra = summary_extra and (", " .. summary_extra()) or ""
  io.write(string.format('{"requests": %d, "duration_s": %.3f, "rps": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non_2xx": %d%s}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, extra))
end

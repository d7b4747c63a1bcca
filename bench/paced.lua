-- wrk script: GET with a pause of BENCH_PACE_MS between one connection's requests, so a
-- run measures latency at a steady load rather than at saturation.
dofile("bench/json-summary.lua")
local pace = tonumber(os.getenv("BENCH_PACE_MS") or "0")
delay = function()
  return pace
end

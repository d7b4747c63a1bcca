-- wrk script: GET over BENCH_N numbered resources (default 10,000) with log-uniform
-- popularity: rank k = floor(n ^ u), u uniform in [0, 1), so every decade of ranks gets the
-- same share of requests — a few items take most of the traffic, as in a surge. Rank 1 is
-- `seed-post-000001`, the newest post `levee seed` writes (the feed runs newest first).
-- BENCH_PATH is the path with one %06d for the rank (default /posts/seed-post-%06d).
-- The JSON summary printed at the end is shared by every scenario.
dofile("bench/json-summary.lua")
local n = tonumber(os.getenv("BENCH_N") or "10000")
local path = os.getenv("BENCH_PATH") or "/posts/seed-post-%06d"

init = function(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

request = function()
  return wrk.format("GET", string.format(path, math.floor(n ^ math.random())))
end

-- wrk script: GET /posts/{slug} over the seeded posts with a Zipf-like popularity
-- (s = 1): a few posts get most of the traffic, as in a surge.
-- The JSON summary printed at the end is shared by every scenario.
dofile("bench/json-summary.lua")
local n = tonumber(os.getenv("BENCH_POSTS") or "1000")
local cdf = {}

init = function(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
  local total = 0
  for k = 1, n do total = total + 1 / k end
  local acc = 0
  for k = 1, n do
    acc = acc + (1 / k) / total
    cdf[k] = acc
  end
end

local function pick()
  local u, lo, hi = math.random(), 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

request = function()
  return wrk.format("GET", string.format("/posts/seed-post-%06d", pick()))
end

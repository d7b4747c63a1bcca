-- wrk script: GET /posts/{slug} over the seeded posts with a Zipf-like popularity
-- (s = 1): a few posts get most of the traffic, as in a surge.
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

done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "duration_s": %.3f, "rps": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end

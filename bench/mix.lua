-- wrk script: 90/10 read/write mix behind a proxy, rate limiting on. 90% of requests are
-- anonymous GET /posts/{slug} (log-uniform over BENCH_N posts, as bench/log-uniform.lua)
-- from many clients: each carries `X-Forwarded-For` with a random address in 10.0.0.0/8,
-- which levee believes from its trusted proxy (127.0.0.1), so the limiter keys and counts
-- per client as it would behind nginx. 10% are POST /orders (one unit of one of the first
-- 100 seeded products) as the next seeded customer (tokens in $LEVEE_BENCH_TOKENS) under
-- an Idempotency-Key no other request uses: a shop taking orders during a read surge.
-- Answers are counted by status (`statuses`; `limited` is the 429s).
dofile("bench/statuses.lua")

local n = tonumber(os.getenv("BENCH_N") or "10000")
local tokens = {}
for line in io.lines(os.getenv("LEVEE_BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local address = '{"name":"Ada Lovelace","line1":"1 Main St","city":"London","postal_code":"N1 9GU","country":"GB"}'

local sent, nonce = 0, ""
function init(args)
  nonce = random_nonce()
  math.randomseed(os.time() + thread_no * 7919 + tonumber(nonce:sub(1, 6), 16))
end

function request()
  sent = sent + 1
  if sent % 10 ~= 0 then
    return wrk.format("GET", string.format("/posts/seed-post-%06d", math.floor(n ^ math.random())), {
      ["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254)),
    })
  end
  local body = string.format('{"items":[{"sku":"SEED-%06d","quantity":1}],"shipping_address":%s}',
    math.random(1, 100), address)
  return wrk.format("POST", "/orders", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(thread_no * 7919 + sent) % #tokens + 1],
    ["Idempotency-Key"] = string.format("mix-%s-%d-%d", nonce, thread_no, sent),
  }, body)
end

function summary_extra()
  local total, by_status = status_totals()
  return string.format('"reads_ok": %d, "orders_accepted": %d, "limited": %d, "statuses": %s',
    total[200] or 0, total[202] or 0, total[429] or 0, by_status)
end

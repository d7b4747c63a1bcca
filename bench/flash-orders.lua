-- wrk script: the flash sale. Every request is POST /orders for one unit of the hot product
-- ($LEVEE_BENCH_SKU) as the next of the seeded customers (access tokens in the file
-- $LEVEE_BENCH_TOKENS, one per line) under an Idempotency-Key no other request uses
-- (a random per-thread nonce, the thread's number and a counter). Answers are counted by
-- status: `accepted` is the 202s.
dofile("bench/statuses.lua")

local tokens = {}
for line in io.lines(os.getenv("LEVEE_BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local body = string.format('{"items":[{"sku":"%s","quantity":1}],"shipping_address":'
  .. '{"name":"Ada Lovelace","line1":"1 Main St","city":"London","postal_code":"N1 9GU","country":"GB"}}',
  os.getenv("LEVEE_BENCH_SKU"))

local sent, nonce = 0, ""
function init(args)
  nonce = random_nonce()
end

function request()
  sent = sent + 1
  -- Threads start at different customers and each walks the whole list.
  local token = tokens[(thread_no * 7919 + sent) % #tokens + 1]
  return wrk.format("POST", "/orders", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("flash-%s-%d-%d", nonce, thread_no, sent),
  }, body)
end

function summary_extra()
  local total, by_status = status_totals()
  return string.format('"accepted": %d, "statuses": %s', total[202] or 0, by_status)
end

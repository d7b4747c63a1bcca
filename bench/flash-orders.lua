-- wrk script: the flash sale. Every request is POST /orders for one unit of the hot product
-- ($LEVEE_BENCH_SKU) as the next of the seeded customers (access tokens in the file
-- $LEVEE_BENCH_TOKENS, one per line) under an Idempotency-Key no other request uses
-- (a random per-thread nonce, the thread's number and a counter). Answers are counted by
-- status: `accepted` is the 202s.
dofile("bench/json-summary.lua")

local tokens = {}
for line in io.lines(os.getenv("LEVEE_BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local body = string.format('{"items":[{"sku":"%s","quantity":1}],"shipping_address":'
  .. '{"name":"Ada Lovelace","line1":"1 Main St","city":"London","postal_code":"N1 9GU","country":"GB"}}',
  os.getenv("LEVEE_BENCH_SKU"))

local threads = {}
function setup(thread)
  thread:set("thread_no", #threads)
  threads[#threads + 1] = thread
end

local sent, nonce = 0, ""
statuses = {}
function init(args)
  local random = io.open("/dev/urandom", "rb")
  nonce = random:read(8):gsub(".", function(c) return string.format("%02x", c:byte()) end)
  random:close()
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

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function summary_extra()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do parts[#parts + 1] = string.format('"%d": %d', status, n) end
  return string.format('"accepted": %d, "statuses": {%s}', total[202] or 0, table.concat(parts, ", "))
end

-- wrk script: POST /orders for one unit of SKU "BENCH-HOT" as the customer whose access
-- token is in LEVEE_BENCH_TOKEN, under a fresh Idempotency-Key per request (run tag +
-- per-thread table address + counter, so threads and runs never share a key), one every
-- 100 ms per connection.
dofile("bench/json-summary.lua")
local counter, tag = 0, ""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LEVEE_BENCH_TOKEN")
wrk.body = '{"items":[{"sku":"BENCH-HOT","quantity":1}],"shipping_address":{"name":"Bench",'
  .. '"line1":"1 Main St","city":"London","postal_code":"N1 9GU","country":"GB"}}'

init = function(args)
  tag = (os.getenv("LEVEE_BENCH_RUN") or "run") .. "-" .. tostring({}):sub(8)
end

delay = function()
  return 100
end

request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = tag .. "-" .. counter
  return wrk.format()
end

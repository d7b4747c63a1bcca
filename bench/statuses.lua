-- wrk script helper (loaded by scripts that count answers by status): numbers the threads
-- (`thread_no`, from 0), counts each thread's answers in `statuses`, and sums them over all
-- threads in `status_totals()` for summary_extra(). Also loads the JSON summary.
dofile("bench/json-summary.lua")

local threads = {}
function setup(thread)
  thread:set("thread_no", #threads)
  threads[#threads + 1] = thread
end

statuses = {}
function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

-- status_totals(): the answers of every thread by status, and them as a JSON object's body.
function status_totals()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(total) do parts[#parts + 1] = string.format('"%d": %d', status, count) end
  return total, "{" .. table.concat(parts, ", ") .. "}"
end

-- A random hex nonce per thread, so keys made from it are unique across runs.
function random_nonce()
  local random = io.open("/dev/urandom", "rb")
  local nonce = random:read(8):gsub(".", function(c) return string.format("%02x", c:byte()) end)
  random:close()
  return nonce
end

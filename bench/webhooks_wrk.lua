-- wrk script for bench/bench_webhooks.py: signed SePay deliveries, each with
-- a unique transaction id, paying a random seeded vendor by its static-QR
-- content ("CHO40 <merchant code>").
--
--   wrk -t2 -c16 -d30s -s bench/webhooks_wrk.lua http://127.0.0.1:PORT/api/v1/webhooks/sepay/ \
--       -- <API key> <codes file> <first id>
--
-- The codes file has one "<merchant code> <account number>" per line. SePay's
-- API-key mode signs with a header, so only the body's id has to vary. Each wrk
-- thread numbers its requests from its own block of ids (first id + thread
-- index × 100,000,000), so ids never repeat across threads or runs that pass a
-- fresh first id. done() prints one JSON line for the bench to read.

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("index", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  local key, codes_file, first = args[1], args[2], tonumber(args[3] or "1")
  codes = {}
  for line in io.lines(codes_file) do
    local code, account = line:match("^(%S+)%s+(%S+)")
    if code then codes[#codes + 1] = { code, account } end
  end
  counter = first + index * 100000000
  math.randomseed(counter)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Apikey " .. key
  statuses = {}
end

function request()
  counter = counter + 1
  local pick = codes[math.random(#codes)]
  local body = string.format(
    '{"id":%d,"gateway":"Vietcombank","transactionDate":"2025-03-01 08:15:00","accountNumber":"%s",'
      .. '"subAccount":null,"code":null,"content":"CHO40 %s rau cu","transferType":"in",'
      .. '"transferAmount":%d,"accumulated":0,"referenceCode":"FT25%012d","description":""}',
    counter, pick[2], pick[1], math.random(5, 499) * 1000, counter)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, n in pairs(counts) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(merged) do
    parts[#parts + 1] = string.format('"%d":%d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us":%d,"requests":%d,"statuses":{%s},"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"p50_ms":%.1f,"p99_ms":%.1f}\n',
    summary.duration, summary.requests, table.concat(parts, ","), e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

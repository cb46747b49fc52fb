-- wrk script for bench/bench_webhooks.py: SePay deliveries signed with
-- HMAC-SHA256 (X-SePay-Timestamp, X-SePay-Signature over "<timestamp>.<body>"),
-- each with a unique transaction id, paying a seeded vendor by its static-QR
-- content ("CHO40 <merchant code>").
--
--   wrk -t1 -c64 -d30s -s bench/webhooks_wrk.lua http://127.0.0.1:PORT/api/v1/webhooks/sepay/ \
--       -- <signed deliveries file> <threads>
--
-- The bench signs the deliveries beforehand (LuaJIT has no HMAC), one per
-- line: "<timestamp>\t<signature>\t<body>". Thread k sends lines k, k + threads,
-- k + 2 × threads, … so no delivery is sent twice while the file lasts (the
-- bench writes more than the run can send; past the end, ids would repeat and
-- show up as duplicates, not as payments). done() prints one JSON line for the
-- bench to read.

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("index", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  local signed_file, stride = args[1], tonumber(args[2] or "1")
  deliveries = {}
  for line in io.lines(signed_file) do
    local ts, signature, body = line:match("^(%d+)\t(%S+)\t(.*)$")
    if ts then deliveries[#deliveries + 1] = { ts, signature, body } end
  end
  position = index
  step = stride
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  statuses = {}
end

function request()
  local delivery = deliveries[(position % #deliveries) + 1]
  position = position + step
  wrk.headers["X-SePay-Timestamp"] = delivery[1]
  wrk.headers["X-SePay-Signature"] = delivery[2]
  return wrk.format(nil, nil, nil, delivery[3])
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
      .. '"p50_ms":%.1f,"p95_ms":%.1f,"p99_ms":%.1f}\n',
    summary.duration, summary.requests, table.concat(parts, ","), e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end

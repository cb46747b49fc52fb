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
--
-- The generator shares the two cores with the server, so it does as little
-- as it can per request: every request is formatted once, in init(), and no
-- Lua runs per response (wrk counts the answers over 399 itself, as
-- errors.status). That cut wrk's CPU per request from about 0.03 ms.

local next_thread = 0

function setup(thread)
  thread:set("index", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  local signed_file, stride = args[1], tonumber(args[2] or "1")
  deliveries = {}
  for line in io.lines(signed_file) do
    local ts, signature, body = line:match("^(%d+)\t(%S+)\t(.*)$")
    if ts then deliveries[#deliveries + 1] = { ts, signature, body } end
  end
  -- This thread's share, formatted once.
  formatted = {}
  for k = index + 1, #deliveries, stride do
    local d = deliveries[k]
    local headers = {
      ["Host"] = wrk.headers["Host"],
      ["Content-Type"] = "application/json",
      ["X-SePay-Timestamp"] = d[1],
      ["X-SePay-Signature"] = d[2],
    }
    formatted[#formatted + 1] = wrk.format("POST", nil, headers, d[3])
  end
  deliveries = nil
  position = 0
end

function request()
  position = position + 1
  return formatted[((position - 1) % #formatted) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us":%d,"requests":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"p50_ms":%.1f,"p95_ms":%.1f,"p99_ms":%.1f}\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end

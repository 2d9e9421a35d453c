-- wrk script used by bench/run.py: replays a prepared list of requests.
-- Args (after "--"): FILE NTHREADS MODE [CAPTURE_PREFIX]
--   FILE: one request a line: METHOD \t PATH \t APIKEY \t TAG \t BODY
--   MODE: "cycle" (repeat the thread's lines until the duration ends) or
--         "once"  (send each line once, then stop the thread)
--   CAPTURE_PREFIX: when given, each answer appends "APIKEY \t TAG \t STATUS \t ID" to
--         CAPTURE_PREFIX<thread> (ID: the "id":"<uuid>" of a 2xx body, else "-"). Needs one connection per thread
--         (run.py passes -t N -c N) so that answers come back in request order.
-- done() prints one JSON line prefixed with "BENCHJSON ".

local counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local entries = {}
local idx = 1
local mode = "cycle"
local capture = nil
local pending = {}
local phead, ptail = 1, 0
local answered = 0
local filler = nil

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  mode = args[3] or "cycle"
  if args[4] and args[4] ~= "" then
    capture = io.open(args[4] .. tid, "w")
  end
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == (tid - 1) then
      local method, path, key, tag, body = line:match("^(%S+)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json" }
      if key ~= "" then headers["apikey"] = key end
      if body == "" then body = nil end
      entries[#entries + 1] = { req = wrk.format(method, path, headers, body), key = key, tag = tag }
    end
    i = i + 1
  end
  filler = wrk.format("GET", "/api/v2/status/heartbeat")
end

function request()
  if #entries == 0 then return filler end
  if idx > #entries then
    if mode == "once" then
      return filler
    end
    idx = 1
  end
  local e = entries[idx]
  idx = idx + 1
  if capture then
    ptail = ptail + 1
    pending[ptail] = e
  end
  return e.req
end

function response(status, headers, body)
  answered = answered + 1
  if capture and phead <= ptail then
    local e = pending[phead]
    pending[phead] = nil
    phead = phead + 1
    local id = "-"
    if status >= 200 and status < 300 and body then
      id = body:match('"id":"([0-9a-f%-]+)"') or "-"
    end
    capture:write(e.key, "\t", e.tag, "\t", status, "\t", id, "\n")
    capture:flush()
  end
  if mode == "once" and answered >= #entries then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end

-- wrk script used by bench/run.py: replays a prepared list of requests.
-- Args (after "--"): FILE NTHREADS MODE [CAPTURE_PREFIX]
--   FILE: one request a line: METHOD \t PATH \t APIKEY \t TAG \t BODY
--   MODE: "cycle" (repeat the thread's lines until the duration ends) or
--         "once"  (send each line once, then stop the thread)
--   CAPTURE_PREFIX: when given, each answer appends "APIKEY \t TAG \t STATUS \t ID" to
--         CAPTURE_PREFIX<thread> (ID: the "id":"<uuid>" of a 2xx body, else "-"). Needs one connection per thread
--         (run.py passes -t N -c N) so that answers come back in request order.
--   5th arg "errors": capture only the non-2xx answers.
--   In "errors" mode a thread may hold several connections: the answers' order is not known,
--   so the lines carry "-" for APIKEY and TAG.
--   In "once" mode each line is flushed as it is written (run.py counts them to know when the
--   run is over); in "cycle" mode they are buffered and written when wrk exits.
-- BENCH_ANSWERS=none (environment): no response() at all, so wrk does not copy each answer's
--   headers and body into Lua; 4xx/5xx answers are then only counted (wrk's summary:
--   errors.status, status > 399). For "cycle" runs without a capture.
-- BENCH_THINK_MS (environment): when set, each connection waits after an answer before its
--   next request (wrk's delay()), a random time with that mean (exponentially distributed,
--   whole milliseconds), so the connections do not fall into step: a paced load below
--   saturation whose requests arrive at random times, as independent workers' pops do.
-- done() prints one JSON line prefixed with "BENCHJSON ".

local think_ms = tonumber(os.getenv("BENCH_THINK_MS") or "")
if think_ms and think_ms > 0 then
  function delay()
    return math.floor(-math.log(1 - math.random()) * think_ms + 0.5)
  end
end

local counter = 1
function setup(thread)
  thread:set("tid", counter)
  thread:set("seed", counter * 7919 + os.time())
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
local errors_only = false

function init(args)
  math.randomseed(seed)
  local file, nthreads = args[1], tonumber(args[2])
  mode = args[3] or "cycle"
  errors_only = args[5] == "errors"
  if args[4] and args[4] ~= "" then
    capture = io.open(args[4] .. tid, "w")
    if mode ~= "once" then
      capture:setvbuf("full", 65536)
    end
  end
  local all = {}
  for line in io.lines(file) do all[#all + 1] = line end
  local function add(line)
    local method, path, key, tag, body = line:match("^(%S+)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    if key ~= "" then headers["apikey"] = key end
    if body == "" then body = nil end
    entries[#entries + 1] = { req = wrk.format(method, path, headers, body), key = key, tag = tag }
  end
  if #all >= nthreads or mode == "once" then
    for i = 1, #all do
      if (i - 1) % nthreads == (tid - 1) then add(all[i]) end
    end
  elseif #all > 0 then
    add(all[(tid - 1) % #all + 1])  -- fewer lines than threads: share them out
  end
  filler = wrk.format("GET", "/api/v2/status/heartbeat")
end

local verified = false
function request()
  if #entries == 0 then return filler end
  -- wrk calls request() once on the first thread's state to verify the script (wrk.c:
  -- script_verify_request); that request is never sent, so it must not advance the list.
  if tid == 1 and not verified then
    verified = true
    return entries[1].req
  end
  if idx > #entries then
    if mode == "once" then
      return filler
    end
    idx = 1
  end
  local e = entries[idx]
  idx = idx + 1
  if capture and not errors_only then
    ptail = ptail + 1
    pending[ptail] = e
  end
  return e.req
end

-- A non-2xx answer's body, on one line, marked with "!".
local function failure_text(body)
  return "!" .. body:sub(1, 300):gsub("[\t\r\n]", " ")
end

local function on_response(status, headers, body)
  answered = answered + 1
  if capture and errors_only then
    if status < 200 or status >= 300 then
      local id = body and failure_text(body) or "-"
      capture:write("-\t-\t", status, "\t", id, "\n")
      if mode == "once" then capture:flush() end
    end
  elseif capture and phead <= ptail then
    local e = pending[phead]
    pending[phead] = nil
    phead = phead + 1
    local id = "-"
    if status >= 200 and status < 300 and body then
      id = body:match('"id":"([0-9a-f%-]+)"') or "-"
    elseif body then
      id = failure_text(body)
    end
    capture:write(e.key, "\t", e.tag, "\t", status, "\t", id, "\n")
    if mode == "once" then capture:flush() end
  end
  if mode == "once" and answered >= #entries then
    wrk.thread:stop()
  end
end

-- wrk decides once, when it loads the script, whether it hands answers to Lua.
if os.getenv("BENCH_ANSWERS") ~= "none" then
  response = on_response
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end

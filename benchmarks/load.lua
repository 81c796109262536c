-- wrk script: the request from the environment, and a JSON summary on stdout when done.
--   BENCH_METHOD, BENCH_PATH, BENCH_BODY, BENCH_TOKEN (bearer), BENCH_FRESH_KEY=1 for a new
--   Idempotency-Key on every request, so each checkout places a new order; BENCH_RUN_ID keeps
--   keys of different runs apart.

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
local fresh_key = os.getenv("BENCH_FRESH_KEY") == "1"
local run_id = os.getenv("BENCH_RUN_ID") or tostring(os.time())

local headers = {}
if token and token ~= "" then
  headers["Authorization"] = "Bearer " .. token
end
if body and body ~= "" then
  headers["Content-Type"] = "application/json"
else
  body = nil
end

local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

local fixed = wrk.format(method, path, headers, body)
local counter = 0

function request()
  if not fresh_key then
    return fixed
  end
  counter = counter + 1
  headers["Idempotency-Key"] = string.format("%s-%d-%d", run_id, thread_id, counter)
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, ' ..
    '"non_2xx": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end

-- wrk script: signed GitHub deliveries with a fresh delivery id each (so every request
-- is a new delivery: verified, claimed, enqueued). The body and its signature are fixed.
local counter = 0
local statuses = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  wrk.method = "POST"
  wrk.body = io.open(args[1]):read("*a")
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-GitHub-Event"] = "pull_request"
  wrk.headers["X-Hub-Signature-256"] = args[2]
  n = 0
end

function request()
  n = n + 1
  wrk.headers["X-GitHub-Delivery"] = string.format("load-%d-%d-%d", id, n, math.random(1, 1e9))
  return wrk.format()
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format('{"kind":"load","requests":%d,"duration_s":%.2f,"rps":%.1f,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

-- wrk script for bench/million.sh: random pages of the MillionPages layout, /c<i % 100>/p<i>, i < PAGES.
local pages = tonumber(os.getenv("PAGES") or "1000000")

init = function(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

request = function()
  local i = math.random(0, pages - 1)
  return wrk.format("GET", "/c" .. (i % 100) .. "/p" .. i)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency.max, e.status, e.timeout))
end

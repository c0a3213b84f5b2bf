-- wrk script for POST /predict: cycles through a few realistic tweets so that the tokenizer and
-- the model see varied input, and prints one machine-readable summary line for replica.sh.
-- BATCH=N in the environment sends POST /predict/batch bodies of N sentences instead (the URL's
-- path is replica.sh's business).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local sentences = {
  "I am so happy today, the sun is out and everything feels great!",
  "Layin n bed with a headache  ughhhh...waitin on your call...",
  "worried about my exam tomorrow, cant sleep at all",
  "I hate it when the bus is late again",
  "wow I did not expect that at all",
  "just finished my essay, finally done. what a relief",
  "missing you so much right now",
  "@friend lol that party was so much fun",
}

local batch = tonumber(os.getenv("BATCH") or "0") or 0
local bodies = {}
for i, s in ipairs(sentences) do
  if batch > 0 then
    -- N sentences starting at the i-th, so that consecutive batches differ.
    local items = {}
    for k = 0, batch - 1 do
      items[#items + 1] = '"' .. sentences[((i + k - 1) % #sentences) + 1] .. '"'
    end
    bodies[i] = '{"sentences": [' .. table.concat(items, ", ") .. ']}'
  else
    bodies[i] = '{"sentence": "' .. s .. '"}'
  end
end

local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
end

-- No response() hook: it would route every response through Lua and slow wrk down; wrk counts
-- non-2xx/3xx answers itself (summary.errors.status).
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH requests=%d duration_s=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f socket_errors=%d non_2xx=%d\n",
    summary.requests,
    summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status
  ))
end

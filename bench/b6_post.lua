-- B6 writes: POST the signed statements of $STATEMENTS (one per line), one per request, each
-- once: thread k of $THREADS posts lines k, k + THREADS, ... Were they all posted before the
-- run ends, the first is posted again: a duplicate, answered 409 (wrk counts it as non-2xx).
local created = 0
function setup(thread)
  thread:set("id", created)
  created = created + 1
end

function init(args)
  local threads = tonumber(os.getenv("THREADS") or "2")
  lines = {}
  local n = 0
  for line in io.lines(os.getenv("STATEMENTS")) do
    if n % threads == id then
      lines[#lines + 1] = line
    end
    n = n + 1
  end
  at = 1
end

function request()
  local body = lines[at] or lines[1]
  at = at + 1
  return wrk.format("POST", "/v1/statements", { ["Content-Type"] = "application/json" }, body)
end

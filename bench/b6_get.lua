-- B6 reads: GET $TEMPLATE with "{i}" replaced by an entry index drawn below $SIZE, seeded
-- ($SEED, plus the thread's number) so that the same run asks the same paths.
local created = 0
function setup(thread)
  thread:set("id", created)
  created = created + 1
end

function init(args)
  math.randomseed(tonumber(os.getenv("SEED") or "7") + id)
  template = os.getenv("TEMPLATE")
  size = tonumber(os.getenv("SIZE") or "1")
end

function request()
  local path = template:gsub("{i}", tostring(math.random(0, size - 1)))
  return wrk.format("GET", path)
end

-- bench/nodes' mix: GET /userinfo (bearer.txt), GET /me/v1/authentication-methods (me_bearer.txt),
-- GET /api/my-account (account_bearer.txt), all Bearer, and POST /oauth/token with the
-- refresh_token grant, in turn, so each is a quarter of the requests sent (the four scenarios of
-- bench/lua/bearer.lua and refresh.lua, whose requests these are). Tokens come from $BENCH_DIR.
-- Refresh tokens rotate: each thread keeps a pool, as refresh.lua does.
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local function line(dir, name)
  local f = io.open(dir .. "/" .. name)
  local v = f:read("*l")
  f:close()
  return v
end

function init(args)
  local dir = os.getenv("BENCH_DIR")
  client_id = line(dir, "client_id.txt")
  local get = function(path, file)
    return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. line(dir, file) })
  end
  reads = {
    get("/userinfo", "bearer.txt"),
    get("/me/v1/authentication-methods", "me_bearer.txt"),
    get("/api/my-account", "account_bearer.txt"),
  }
  pool = {}
  local n, i = tonumber(os.getenv("BENCH_THREADS") or "2"), 0
  for l in io.lines(dir .. "/refresh_tokens.txt") do
    if i % n == id then table.insert(pool, l) end
    i = i + 1
  end
  turn = 0
end

function request()
  turn = turn % 4 + 1
  if turn <= 3 then return reads[turn] end
  local rt = table.remove(pool) or "exhausted"
  local body = "grant_type=refresh_token&client_id=" .. client_id .. "&refresh_token=" .. rt
  return wrk.format("POST", "/oauth/token", { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

function response(status, headers, body)
  local rt = body:match('"refresh_token":"([^"]+)"')
  if rt then table.insert(pool, rt) end
end

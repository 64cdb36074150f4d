-- POST /oauth/token with grant_type=refresh_token. Each refresh rotates the token, so every
-- thread keeps a pool: a request takes a token, its response puts the new one back.
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  local dir = os.getenv("BENCH_DIR")
  local f = io.open(dir .. "/client_id.txt")
  client_id = f:read("*l")
  f:close()
  pool = {}
  local n, i = tonumber(os.getenv("BENCH_THREADS") or "2"), 0
  for line in io.lines(dir .. "/refresh_tokens.txt") do
    if i % n == id then table.insert(pool, line) end
    i = i + 1
  end
end
function request()
  local rt = table.remove(pool) or "exhausted"
  local body = "grant_type=refresh_token&client_id=" .. client_id .. "&refresh_token=" .. rt
  return wrk.format("POST", "/oauth/token", { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
function response(status, headers, body)
  local rt = body:match('"refresh_token":"([^"]+)"')
  if rt then table.insert(pool, rt) end
end

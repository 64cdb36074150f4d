-- bench/nodes' mix: GET /userinfo (bearer.txt), GET /me/v1/authentication-methods (me_bearer.txt),
-- GET /api/my-account (account_bearer.txt), all Bearer, and POST /oauth/token with the
-- refresh_token grant, in turn, so each is a quarter of the requests sent (the four scenarios of
-- bench/lua/bearer.lua and refresh.lua, whose requests these are). Tokens come from $BENCH_DIR.
-- The refresh grant is refresh.lua's own: its setup, token pool and response handling.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "lua/refresh.lua")
local refresh_init, refresh_request = init, request

function init(args)
  refresh_init(args)
  local dir = os.getenv("BENCH_DIR")
  local function bearer(path, file)
    local f = io.open(dir .. "/" .. file)
    local token = f:read("*l")
    f:close()
    return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
  end
  reads = {
    bearer("/userinfo", "bearer.txt"),
    bearer("/me/v1/authentication-methods", "me_bearer.txt"),
    bearer("/api/my-account", "account_bearer.txt"),
  }
  turn = 0
end

function request()
  turn = turn % 4 + 1
  if turn <= 3 then return reads[turn] end
  return refresh_request()
end

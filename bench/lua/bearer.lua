-- GET /userinfo with a Bearer token read from $BENCH_DIR/bearer.txt.
local f = io.open(os.getenv("BENCH_DIR") .. "/bearer.txt")
local token = f:read("*l")
f:close()
wrk.headers["Authorization"] = "Bearer " .. token

-- GET with a Bearer token read from $BENCH_DIR/$BENCH_TOKEN (default bearer.txt).
local f = io.open(os.getenv("BENCH_DIR") .. "/" .. (os.getenv("BENCH_TOKEN") or "bearer.txt"))
local token = f:read("*l")
f:close()
wrk.headers["Authorization"] = "Bearer " .. token

-- GET with a DPoP-bound token and a fresh single-use proof per request: the token is
-- $BENCH_DIR/$BENCH_TOKEN (default dpop_token.txt), the proofs $BENCH_DIR/$BENCH_PROOFS (default
-- dpop_proofs.txt), signed for this URL by proofs.mjs. Threads take disjoint slices of the proofs;
-- running out reuses proofs, which the server refuses (counted as non-2xx, so it shows).
local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local dir = os.getenv("BENCH_DIR")
  local f = io.open(dir .. "/" .. (os.getenv("BENCH_TOKEN") or "dpop_token.txt"))
  token = f:read("*l")
  f:close()
  proofs = {}
  local n, i = tonumber(os.getenv("BENCH_THREADS") or "2"), 0
  for line in io.lines(dir .. "/" .. (os.getenv("BENCH_PROOFS") or "dpop_proofs.txt")) do
    if i % n == id then table.insert(proofs, line) end
    i = i + 1
  end
  next_proof = 1
  -- The request is formatted once around a placeholder; each request only splices its proof in.
  -- wrk.format per request doubled wrk's CPU per request, taken from the server on this machine.
  local req = wrk.format("GET", nil, { ["Authorization"] = "DPoP " .. token, ["DPoP"] = "@PROOF@" })
  local at = req:find("@PROOF@", 1, true)
  before, after = req:sub(1, at - 1), req:sub(at + #"@PROOF@")
end
function request()
  local p = proofs[next_proof]
  next_proof = next_proof % #proofs + 1
  return before .. p .. after
end

-- wrk script for `GET /v1.0/contact/users/me`: cycles through the user tokens in the file named
-- by the first script argument, one per line (scripts/bench mints one per sampled member), so
-- the requests are not all for the same person; each wrk thread starts at a different place.
--   wrk ... -s scripts/bench.d/getuser.lua URL -- tokens.txt

local requests = {}
local n, i = 0, 0
local threads = 0

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

function init(args)
  local file = assert(args[1], "usage: -s getuser.lua URL -- TOKENS_FILE")
  local f = assert(io.open(file, "r"))
  for line in f:lines() do
    local token = line:match("^%s*(.-)%s*$")
    if token ~= "" then
      n = n + 1
      requests[n] = wrk.format("GET", nil, { ["x-acs-dingtalk-access-token"] = token }, nil)
    end
  end
  f:close()
  assert(n > 0, "no tokens in " .. file)
  i = ((thread_index or 0) * math.floor(n / 8)) % n
end

function request()
  i = i % n + 1
  return requests[i]
end

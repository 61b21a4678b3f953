-- wrk script for `POST /topapi/v2/user/get?access_token=T` (the token is in the URL
-- scripts/bench passes). Cycles through the userids in the file named by the first script
-- argument, one per line; each wrk thread starts at a different place in the list. Every
-- request is formatted once, in init.
--   wrk ... -s scripts/bench.d/userget.lua URL -- userids.txt

local requests = {}
local n, i = 0, 0
local threads = 0

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

function init(args)
  local file = assert(args[1], "usage: -s userget.lua URL -- USERIDS_FILE")
  local f = assert(io.open(file, "r"))
  for line in f:lines() do
    local userid = line:match("^%s*(.-)%s*$")
    if userid ~= "" then
      n = n + 1
      local headers = { ["Content-Type"] = "application/json" }
      requests[n] = wrk.format("POST", nil, headers, '{"userid":"' .. userid .. '"}')
    end
  end
  f:close()
  assert(n > 0, "no userids in " .. file)
  i = ((thread_index or 0) * math.floor(n / 8)) % n
end

function request()
  i = i % n + 1
  return requests[i]
end

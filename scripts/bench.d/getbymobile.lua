-- wrk script for `POST /topapi/v2/user/getbymobile?access_token=T` (the token is in the URL
-- scripts/bench passes). Cycles through the mobiles in the file named by the first script
-- argument, one per line, so the lookup is not always the same row; each wrk thread starts at a
-- different place in the list. Every request is formatted once, in init.
--   wrk ... -s scripts/bench.d/getbymobile.lua URL -- mobiles.txt

local requests = {}
local n, i = 0, 0
local threads = 0

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

function init(args)
  local file = assert(args[1], "usage: -s getbymobile.lua URL -- MOBILES_FILE")
  local f = assert(io.open(file, "r"))
  for line in f:lines() do
    local mobile = line:match("^%s*(.-)%s*$")
    if mobile ~= "" then
      n = n + 1
      local headers = { ["Content-Type"] = "application/json" }
      requests[n] = wrk.format("POST", nil, headers, '{"mobile":"' .. mobile .. '"}')
    end
  end
  f:close()
  assert(n > 0, "no mobiles in " .. file)
  -- Spread the threads over the list: thread k starts k/8 of the way in.
  i = ((thread_index or 0) * math.floor(n / 8)) % n
end

function request()
  i = i % n + 1
  return requests[i]
end

-- wrk script for `POST /topapi/v2/user/list?access_token=T` (the token is in the URL
-- scripts/bench passes): the same JSON body every time, read from the file named by the first
-- script argument, e.g. {"dept_id":2,"cursor":99800,"size":100}. Formatted once, in init.
--   wrk ... -s scripts/bench.d/userlist.lua URL -- page.json

local req

function init(args)
  local file = assert(args[1], "usage: -s userlist.lua URL -- BODY_FILE")
  local f = assert(io.open(file, "r"))
  local body = f:read("*a"):match("^%s*(.-)%s*$")
  f:close()
  assert(body ~= "", "no body in " .. file)
  req = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function request()
  return req
end

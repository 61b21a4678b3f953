-- wrk: POST /topapi/v2/user/create with a fresh userid and mobile on every request.
-- Usage: wrk -s usercreate.lua URL -- ACCESS_TOKEN RUN_TAG
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  tag = args[2] or "0"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local n = thread_id * 10000000 + counter
  local userid = string.format("w%s_%d", tag, n)
  local mobile = string.format("14%09d", (tonumber(tag) * 100000000 + n) % 1000000000)
  local body = string.format('{"userid":"%s","name":"%s","mobile":"%s","dept_id_list":"1"}', userid, userid, mobile)
  return wrk.format("POST", "/topapi/v2/user/create?access_token=" .. token, nil, body)
end

function response(status, headers, body)
  if not string.find(body, '"errcode":0', 1, true) then
    io.stderr:write("write failed: " .. body .. "\n")
  end
end

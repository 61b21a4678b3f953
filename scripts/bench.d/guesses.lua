-- wrk script for scripts/bench-hostile: `GET /gettoken` with an unknown app key and a distinct
-- secret on every request, as a guesser would send them (nothing can be answered from memory).
local counter = 0

function request()
  counter = counter + 1
  return wrk.format("GET", "/gettoken?appkey=nosuchapp&appsecret=guess" .. counter .. "-" .. math.random(1, 1000000000))
end

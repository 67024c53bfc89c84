-- wrk script for the benchmarks' ceiling: the request mix of one reconciliation cycle, sent as
-- fast as the fake cluster answers. For each orphan a GET /_connector/ID (the backup) and then a
-- DELETE /_connector/ID?delete_sync_jobs=true, after one list page GET /_connector?from=&size=100
-- (with the filter_path the reconciler sends) for every 100 connectors (the cycle lists all of
-- them first: CONNECTORS / 100 pages for ORPHANS orphans). Every orphan is read and deleted
-- once; when the last answer has come, wrk exits at once (its own summary would count the whole
-- -d duration), so the rate is taken from the fake cluster's request log: requests over the
-- time from the first to the last.
--
--     wrk -t 1 -c 4 -d 600s -s mix.lua URL -- ORPHANS-FILE CONNECTORS

local requests = {}
local filter = "&filter_path=count,results.id,results.name,results.service_type,results.index_name,results.deleted"
local next_request = 1
local answered = 0

function init(args)
   local file, connectors = args[1], tonumber(args[2])
   local ids = {}
   for line in io.lines(file) do
      table.insert(ids, line)
   end
   -- One list page per 100 connectors, as the cycle asks for them.
   local pages = math.floor(connectors / 100 + 0.5)
   local from = 0
   -- The DELETE of an orphan goes out 16 orphans (32 requests) after its GET, so that the GET
   -- has been answered by then (the fake serves each connection on its own thread, and one of
   -- them may stall while the others go on), as in a cycle, which deletes after the backup.
   local lag = 16
   -- The listing first, as in a cycle, which lists everything before it deletes anything.
   for p = 1, pages do
      table.insert(requests, wrk.format("GET", "/_connector?from=" .. from .. "&size=100" .. filter))
      from = from + 100
   end
   for i = 1, #ids + lag do
      if i <= #ids then
         table.insert(requests, wrk.format("GET", "/_connector/" .. ids[i]))
      end
      if i > lag then
         table.insert(requests, wrk.format("DELETE", "/_connector/" .. ids[i - lag] .. "?delete_sync_jobs=true"))
      end
   end
end

function request()
   local r = requests[next_request]
   if r == nil then
      -- Past the end: repeat the last request until the thread has stopped (responses in flight).
      return requests[#requests]
   end
   next_request = next_request + 1
   return r
end

function response(status, headers, body)
   answered = answered + 1
   if answered >= #requests then
      os.exit(0)
   end
end

-- async_fetch.lua: a cached "fetch" under cqueues, with coalesce = true.
--
-- 50 coroutines ask for 5 pages at the same time. Without coalescing, each of them misses
-- the cache and fetches (50 requests); with it, the first coroutine to ask for a page
-- fetches it and the others wait for its result (5 requests). A failed fetch reaches every
-- coroutine that waited for it, and is not cached. The "network" is cqueues.sleep, so the
-- example needs no server and ends in about a tenth of a second.
--
-- Run:  ./mchost examples/async_fetch.lua      (Debian: apt-get install lua-cqueues)
--   or  LUA_PATH='lua/?.lua;;' LUA_CPATH='build/?.so;;' lua5.4 examples/async_fetch.lua

local methodcache = require("methodcache")
local cqueues = require("cqueues")

local LATENCY = 0.05 -- seconds per request

-- the method: "the network" is cqueues.sleep, which yields to the controller meanwhile
local function fetch(self, path)
  self.requests = self.requests + 1
  cqueues.sleep(LATENCY)
  if path == "/missing" then
    error({ status = 404, path = path })
  end
  return "<html>" .. self.host .. path .. "</html>", 200
end

local function client_class(opts)
  local Client = {}
  Client.__index = Client
  Client.fetch = methodcache.method(fetch, opts)
  function Client.new(host) return setmetatable({ host = host, requests = 0 }, Client) end
  return Client
end

local PlainClient = client_class({ maxsize = 100 })
-- nothing else to configure: inside a cqueues controller, waiting uses a cqueues condition
local Client = client_class({ maxsize = 100, coalesce = true })

local PATHS = { "/", "/news", "/about", "/contact", "/missing" }

-- 50 coroutines fetch the 5 paths, 10 each, all at once; returns what they got and the time
local function crowd(client)
  local cq = cqueues.new()
  local ok, failed = 0, 0
  for i = 1, 50 do
    local path = PATHS[i % #PATHS + 1]
    cq:wrap(function()
      local good, body, status = pcall(client.fetch, client, path)
      if good then
        assert(status == 200 and body:find(path, 1, true))
        ok = ok + 1
      else
        assert(body.status == 404) -- the same error table for every caller
        failed = failed + 1
      end
    end)
  end
  local t0 = cqueues.monotime()
  assert(cq:loop())
  return ok, failed, cqueues.monotime() - t0
end

local function report(label, client)
  local before = client.requests
  local ok, failed, took = crowd(client)
  print(("%-28s %2d requests, %2d pages, %2d errors, %3.0f ms"):format(label,
    client.requests - before, ok, failed, took * 1000))
end

report("without coalesce:", PlainClient.new("example.org"))
local client = Client.new("example.org")
report("coalesce, cold cache:", client)
report("coalesce, warm cache:", client) -- hits; only the error is fetched again

local info = methodcache.info(Client.fetch, client)
print(("info: hits=%d misses=%d currsize=%d"):format(info.hits, info.misses, info.currsize))

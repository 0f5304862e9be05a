-- coroutines.lua: a cached method may yield (for example while it waits for I/O).
--
-- The result is stored when the method returns, however many times it yielded on the way.
-- Two coroutines that miss on the same key at the same time both run the method in 0.1
-- (the last one to finish stores its result).
--
-- Run:  ./mchost examples/coroutines.lua
--   or  LUA_PATH='lua/?.lua' LUA_CPATH='build/?.so' lua5.4 examples/coroutines.lua

local methodcache = require("methodcache")

-- A client whose fetch method "waits for the network" by yielding to a scheduler.
local Client = {}
Client.__index = Client

function Client.new(host)
  return setmetatable({ host = host, requests = 0 }, Client)
end

function Client:fetch(path)
  self.requests = self.requests + 1
  -- Yield to whoever drives us; a real program would wait on a socket here.
  local body = coroutine.yield("wait", self.host .. path)
  return body, #body
end

Client.fetch = methodcache.method(Client.fetch, { maxsize = 32 })

-- A tiny scheduler: runs tasks round-robin; a task that yields "wait" gets the
-- "response" on its next turn.
local function run(tasks)
  local queue = {}
  for i, f in ipairs(tasks) do queue[i] = { co = coroutine.create(f) } end
  while #queue > 0 do
    local t = table.remove(queue, 1)
    local ok, what, url = coroutine.resume(t.co, t.reply)
    assert(ok, what)
    if coroutine.status(t.co) ~= "dead" then
      assert(what == "wait")
      print("  ... waiting for " .. url)
      t.reply = "<page " .. url .. ">"
      queue[#queue + 1] = t
    end
  end
end

local c = Client.new("example.org")

print("first call (a miss: the method yields once, then returns):")
run({ function()
  local body, n = c:fetch("/a")
  print("  got", body, n)
end })

print("second call (a hit: answered at once, no yield):")
run({ function()
  local body, n = c:fetch("/a")
  print("  got", body, n)
end })

print("two coroutines miss on the same key together: both run the method:")
run({
  function() print("  task 1 got", c:fetch("/b")) end,
  function() print("  task 2 got", c:fetch("/b")) end,
})
print("  and now it is cached:", c:fetch("/b"))

local info = methodcache.info(Client.fetch, c)
print(string.format("requests made: %d; info: hits=%d misses=%d currsize=%d", c.requests,
  info.hits, info.misses, info.currsize))

-- The same with cqueues, if it is installed (Debian: lua-cqueues). A LUA_CPATH of
-- 'build/?.so' hides system modules, so look in the standard places too.
local ok, cqueues = pcall(require, "cqueues")
if not ok then
  package.path = package.path .. ";/usr/local/share/lua/5.4/?.lua;/usr/share/lua/5.4/?.lua"
  package.cpath = package.cpath .. ";/usr/local/lib/lua/5.4/?.so;/usr/lib/lua/5.4/?.so"
    .. ";/usr/lib/x86_64-linux-gnu/lua/5.4/?.so;/usr/lib/aarch64-linux-gnu/lua/5.4/?.so"
  ok, cqueues = pcall(require, "cqueues")
end
if not ok then
  print("cqueues not installed; skipping the cqueues part.")
  return
end

local Sensor = {}
Sensor.__index = Sensor

function Sensor:read(channel)
  cqueues.sleep(0.05) -- yields to the cqueues controller
  return channel * self.gain
end

Sensor.read = methodcache.method(Sensor.read)

local s = setmetatable({ gain = 10 }, Sensor)
local cq = cqueues.new()
cq:wrap(function()
  local t0 = cqueues.monotime()
  local v1 = s:read(4)
  local t1 = cqueues.monotime()
  local v2 = s:read(4)
  local t2 = cqueues.monotime()
  print(string.format("cqueues: read(4) = %d in %.0f ms, again = %d in %.0f ms", v1,
    (t1 - t0) * 1000, v2, (t2 - t1) * 1000))
end)
assert(cq:loop())

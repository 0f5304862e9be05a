-- mchost next to lua5.4: where they should agree (options, LUA_INIT, every
-- kind of error, exit statuses, the REPL, SIGINT, a terminal through tmux),
-- the same output; where mchost differs (-h, -v, --gc, --stats, lines of any
-- length without readline, end of input inside a statement), what it does.
local sh = require("spec.support.shell")
local json = require("spec.support.json")

local ROOT = sh.root
local MCHOST = ROOT .. "mchost"
local LUA = "lua5.4"
-- lua5.4 finds methodcache in the build tree; mchost has it preloaded
local ENV = ("LUA_PATH=%s LUA_CPATH=%s"):format(sh.quote(ROOT .. "lua/?.lua;;"),
                                                sh.quote(ROOT .. "build/?.so;;"))
local BANNER2 = "methodcache %S+ %(mchost%)\n"  -- the line -v adds to Lua's

-- what prog printed, with its own name as "PROG" and mchost's second
-- version line gone. A traceback names a function of methodcache after a
-- field of package.loaded that holds it, and both "methodcache" and
-- "methodcache.core" do (the same table): which one comes first in the
-- walk changes from run to run, in either program.
local function normalize(r, prog)
  local function n(s)
    s = s:gsub(BANNER2, ""):gsub("'methodcache%.core%.", "'methodcache.")
    return (s:gsub(prog:gsub("%p", "%%%0"), "PROG"))
  end
  return { out = n(r.out), err = n(r.err), code = r.code }
end

-- runs 'args' (already quoted) with each program; returns both results
local function both(args, stdin, env)
  local res = {}
  for _, prog in ipairs({ LUA, MCHOST }) do
    res[#res + 1] = normalize(sh.run(("%s %s %s %s"):format(ENV, env or "", sh.quote(prog), args),
                                     stdin), prog)
  end
  return res[1], res[2]
end

local function agree(args, stdin, env)
  local l, m = both(args, stdin, env)
  assert.are.same(l, m)
  return m
end

local q = sh.quote
local dir

local function file(name, text)
  sh.write(dir .. "/" .. name, text)
  return dir .. "/" .. name
end

-- For the SIGINT specs (sh, $pid running): waits until the program has
-- printed "ready" at the start of a line (so that it runs Lua code: lua.c
-- sets its handler then), with a watchdog ($dog) that kills it if SIGINT
-- does not end it in time, so that a failure cannot hang the run (it must
-- not hold the REPL's input open: 3>&-).
local WAIT_READY = [[
  ( trap 'kill $s; exit' TERM; sleep 20 & s=$!; wait $s; kill -KILL $pid ) 2>/dev/null 3>&- &
  dog=$!
  i=0; while ! grep -qs '^ready' out && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done]]

local has_readline = sh.run("ldd " .. q(MCHOST) .. " | grep -q libreadline").code == 0

describe("mchost next to lua5.4", function()
  setup(function() dir = sh.tmpdir() end)
  teardown(function() sh.rmtree(dir) end)

  describe("agrees on", function()
    it("-e, in order, and the arg table of a script", function()
      local s = file("args.lua", "print(select('#', ...), table.concat({ ... }, ','), #arg, " ..
                                 "arg[0] == debug.getinfo(1, 'S').source:sub(2))\n")
      local r = agree("-e 'x = 1' -e 'print(x + 1)' " .. q(s) .. " a b")
      assert.are.equal("2\n2\ta,b\t2\ttrue\n", r.out)
    end)

    it("-l mod and -l g=mod", function()
      file("mymod.lua", "return { answer = 42 }\n")
      local env = "LUA_PATH=" .. q(dir .. "/?.lua")
      local r = agree("-l mymod -l g=mymod -e 'print(mymod.answer, g.answer, g == mymod)'",
                      nil, env)
      assert.are.equal("42\t42\ttrue\n", r.out)
    end)

    it("LUA_INIT, LUA_INIT_5_4 before it, @file, and -E ignoring them", function()
      local init = file("init.lua", "print('from file')\n")
      assert.are.equal("init\n1\n", agree("-e 'print(1)'", nil, "LUA_INIT='print(\"init\")'").out)
      assert.are.equal("5.4\n", agree("", nil, "LUA_INIT='print(1)' LUA_INIT_5_4='print(5.4)'").out)
      assert.are.equal("from file\n", agree("", nil, "LUA_INIT=@" .. q(init)).out)
      assert.are.equal("", agree("-E", nil, "LUA_INIT='print(1)'").out)
    end)

    it("-W and warnings", function()
      local r = agree("-W -e 'warn(\"careful\")' -e 'warn(\"@off\")' -e 'warn(\"unseen\")'")
      assert.are.equal("Lua warning: careful\n", r.err)
    end)

    it("a script on standard input, with '-' and without", function()
      assert.are.equal("3\n", agree("", "print(1 + 2)\n").out)
      assert.are.equal("x\n", agree("- x", "print(...)\n").out)
      assert.are.equal("4\n", agree("-- " .. q(file("four.lua", "print(4)\n"))).out)
    end)

    local errors = {
      { "a runtime error", "-e 'local t = nil; return t.x'" },
      { "error() with a string", "-e 'error(\"boom\")'" },
      { "error() with a table", "-e 'error({})'" },
      { "error() with nil", "-e 'error()'" },
      { "an error object whose __tostring gives a string (no traceback)",
        "-e 'error(setmetatable({}, {__tostring = function() return \"custom\" end}))'" },
      { "an error object whose __tostring gives no string",
        "-e 'error(setmetatable({}, {__tostring = function() return 1 end}))'" },
      { "an error with level 2 inside functions",
        "-e 'local function f() error(\"deep\", 2) end f()'" },
      { "a syntax error in -e", "-e 'x = = 1'" },
      { "a script that does not exist", "/nonexistent/script.lua" },
      { "a module that does not exist", "-l no_such_module_anywhere" },
      { "an error in a cached method", "-e 'local mc = require(\"methodcache\")\n" ..
        "local T = {} T.__index = T T.m = mc.method(function(self) error(\"in method\") end)\n" ..
        "setmetatable({}, T):m()'" },
      { "a bad argument to methodcache", "-e 'require(\"methodcache\").lru(-1)'" },
      { "a bad option", "-x" },
      { "-e without its argument", "-e" },
      { "-l followed by an option", "-l -e" },
      { "an option with extra letters", "-vx" },
    }
    for _, case in ipairs(errors) do
      it("the report of " .. case[1] .. " and the exit status", function()
        local l, m = both(case[2])
        if case[2]:match("^%-[xelv]") then
          -- bad options: lua's usage is the start of mchost's
          assert.are.same({ l.out, l.code }, { m.out, m.code })
          assert.are.equal(l.err, m.err:sub(1, #l.err))
        else
          assert.are.same(l, m)
        end
        assert.are.equal(1, m.code)
      end)
    end

    it("the report of errors in a script file, a syntax error in it, and LUA_INIT", function()
      agree(q(file("err.lua", "local x = 1\nerror('line two')\n")))
      agree(q(file("syntax.lua", "x = = 1\n")))
      agree("-e 'print(1)'", nil, "LUA_INIT='error(\"in init\")'")
    end)

    it("exit status 0 after an error in a script read from stdin without '-' (as lua.c)", function()
      local r = agree("", "error('from stdin')\n")
      assert.are.equal(0, r.code)
      assert.are.equal(1, agree("-", "error('from stdin')\n").code)
    end)

    it("os.exit and the exit status of a script", function()
      assert.are.equal(3, agree("-e 'os.exit(3)'").code)
      assert.are.equal(1, agree("-e 'os.exit(false)'").code)
      assert.are.equal(0, agree("-e 'os.exit(true, true)'").code)
    end)

    it("the garbage collector's mode: generational", function()
      assert.are.equal("generational\n", agree("-e 'print(collectgarbage(\"incremental\"))'").out)
    end)

    it("SIGINT stopping a script with 'interrupted!', also when started with SIGINT ignored",
       function()
      local function interrupt(prog)
        return normalize(sh.run(([[
          cd %s && rm -f out err
          trap '' INT
          %s -e "io.write('re' .. 'ady\n') io.flush() while true do end" > out 2> err &
          pid=$!
          %s
          kill -INT $pid; wait $pid; rc=$?; kill $dog
          cat out; cat err >&2; exit $rc]]):format(q(dir), q(prog), WAIT_READY)), prog)
      end
      local l, m = interrupt(LUA), interrupt(MCHOST)
      assert.are.same(l, m)
      assert.is_truthy(m.err:match("^PROG: interrupted!\nstack traceback:\n\t%(command line%):1:"),
                       m.err)
      assert.are.equal(1, m.code)
    end)

    describe("the REPL with input from a pipe (-i)", function()
      -- with readline, both echo the prompt and the line; lua5.4 on Debian has it
      local function repl(input)
        if not has_readline then
          pending("mchost was built without readline: lua5.4's echo of the input differs")
          return
        end
        return agree("-i", input)
      end

      it("prints values, keeps going after errors, and joins continuation lines", function()
        local r = repl("x = 1\nx + 1\n=x * 10\nerror('oops')\nerror({})\nfor i = 1, 2 do\n" ..
                       "print(i)\nend\nlocal a = 'b'\nprint(a)\n1 +\n")
        if r then
          assert.is_truthy(r.out:find("> x + 1\n2\n", 1, true), r.out)
          assert.is_truthy(r.err:find("stdin:1: oops\nstack traceback:", 1, true), r.err)
          assert.are.equal(0, r.code)
        end
      end)

      it("reports an error of print and a value print cannot show", function()
        local r = repl("setmetatable({}, {__tostring = function() return 1 end})\n" ..
                       "print = nil\n1\n")
        if r then assert.is_truthy(r.err:find("error calling 'print'", 1, true), r.err) end
      end)

      it("uses _PROMPT and _PROMPT2", function()
        local r = repl("_PROMPT = 'lua# ' _PROMPT2 = setmetatable({}, {__tostring = " ..
                       "function() return '...# ' end})\nif true then\nend\n")
        if r then assert.is_truthy(r.out:find("...# end", 1, true), r.out) end
      end)

      it("takes a line of 5000 characters", function()
        local r = repl("print(#'" .. ("x"):rep(5000) .. "')\n")
        if r then assert.is_truthy(r.out:find("\n5000\n", 1, true), r.out) end
      end)

      it("survives SIGINT: the running line stops with 'interrupted!' and the next runs", function()
        if not has_readline then
          pending("mchost was built without readline: lua5.4's echo of the input differs")
          return
        end
        local function interrupt(prog)
          return normalize(sh.run(([[
            cd %s && rm -f out err fifo && mkfifo fifo
            %s -i < fifo > out 2> err &
            pid=$!
            exec 3> fifo
            printf '%%s\n' "io.write('re' .. 'ady\n') io.flush() while true do end" >&3
            %s
            kill -INT $pid
            echo 'print(6 * 7)' >&3
            exec 3>&-
            wait $pid; rc=$?; kill $dog
            cat out; cat err >&2; exit $rc]]):format(q(dir), q(prog), WAIT_READY)), prog)
        end
        local l, m = interrupt(LUA), interrupt(MCHOST)
        assert.are.same(l, m)
        assert.is_truthy(m.err:match("^interrupted!\nstack traceback:\n\tstdin:1:"), m.err)
        assert.is_truthy(m.out:find("> print(6 * 7)\n42\n", 1, true), m.out)
      end)
    end)
  end)

  describe("differs where it says so:", function()
    it("-h and --help print the usage with mchost's options on stdout (lua5.4: bad option)",
       function()
      for _, opt in ipairs({ "-h", "--help" }) do
        local l, m = both(opt)
        assert.are.same({ 1, 0, "" }, { l.code, m.code, m.err })
        assert.is_truthy(m.out:find("  --stats   ", 1, true))
        assert.is_truthy(m.out:find("--gc=incremental", 1, true))
        -- lua's list of options is in it
        local opts = l.err:match("\n(Available options are:\n.-execute stdin\n)")
        assert.is_truthy(m.out:find(opts, 1, true), m.out)
      end
    end)

    it("-v prints Lua's version line, then methodcache's", function()
      local l = sh.run(LUA .. " -v")
      local m = sh.run(q(MCHOST) .. " -v")
      assert.are.equal(l.out .. "methodcache 0.1.0 (mchost)\n", m.out)
    end)

    it("--gc=incremental sets the collector's mode; --gc=other is a bad option", function()
      local mode = " -e 'print(collectgarbage(\"generational\"))'"
      local m = sh.run(q(MCHOST) .. " --gc=incremental" .. mode)
      assert.are.equal("incremental\n", m.out)
      m = sh.run(q(MCHOST) .. " --gc=generational" .. mode)
      assert.are.equal("generational\n", m.out)
      m = normalize(sh.run(q(MCHOST) .. " --gc=fast -e 1"), MCHOST)
      assert.are.equal(1, m.code)
      assert.are.equal("PROG: '--gc=fast': the mode must be 'incremental' or 'generational'",
                       m.err:match("^[^\n]*"))
    end)

    it("end of input inside a statement reports its syntax error (lua5.4 prints '(null)')",
       function()
      local l, m = both("-i", "x = (\n")
      assert.are.equal("stdin:1: unexpected symbol near <eof>\n", m.err)
      assert.are_not.equal(l.err, m.err)
    end)

    it("reads lines of any length without readline too (lua.c: 512 bytes)", function()
      local plain = dir .. "/mchost-plain"
      sh.check(("cc %s -I%s %s %s -llua5.4 -lm -ldl -o %s"):format(sh.lua_cflags(),
        q(ROOT .. "csrc"), q(ROOT .. "csrc/mc_host.c"), q(ROOT .. "build/libmethodcache.a"),
        q(plain)))
      local long = ("y"):rep(3000)
      local r = sh.run(q(plain) .. " -i",
                       "print(#'" .. long .. "')\n=1 +\n2\nfor i = 1, 2 do\nprint(i) end\n")
      assert.are.same({ 0, "" }, { r.code, r.err })
      assert.are.equal("> 3000\n> >> 3\n> >> 1\n2\n> \n", r.out:gsub("^[^\n]*\n[^\n]*\n", ""))
    end)

    describe("--stats", function()
      local script
      setup(function()
        script = file("stats.lua", [[
local methodcache = require("methodcache")
local Point = {}
Point.__index = Point
Point.norm = methodcache.method(function(self) return (self.x ^ 2 + self.y ^ 2) ^ 0.5 end)
local sq = methodcache.cached(function(x) return x * x end, { policy = "unbounded" })
local p = setmetatable({ x = 3, y = 4 }, Point)
for i = 1, 10 do p:norm(); sq(i % 4) end
if ... == "fail" then error("failed after the calls") end
if ... == "exit" then os.exit(7) end
]])
      end)

      local function stats(opts, arg)
        local cmd = ("%s %s %s %s"):format(q(MCHOST), opts, q(script), arg or "")
        return normalize(sh.run(cmd), MCHOST)
      end

      it("prints a table of every cached method and function on stderr at the end", function()
        local r = stats("--stats")
        assert.are.same({ 0, "" }, { r.code, r.out })
        local lines = {}
        for line in r.err:gmatch("[^\n]+") do lines[#lines + 1] = line end
        assert.are.equal("PROG: methodcache statistics, 2 cached methods and functions", lines[1])
        assert.is_truthy(lines[2]:match("^kind%s+name%s+defined%s+policy%s+maxsize%s+hits%s+misses"
                                        .. "%s+entries%s+objects%s+collected%s+bytes$"), lines[2])
        -- kind name defined policy maxsize hits misses entries objects collected bytes
        local function row(line)
          local t = {}
          for w in line:gmatch("%S+") do t[#t + 1] = w end
          t[3] = t[3]:match("stats%.lua:%d+$")
          return t
        end
        local norm, sq = row(lines[3]), row(lines[4])
        assert.is_truthy(tonumber(norm[11]) > 0 and tonumber(sq[11]) > 0)
        norm[11], sq[11] = nil, nil
        assert.are.same({ "method", "norm", "stats.lua:4", "lru", "128", "9", "1", "1", "1", "0" },
                        norm)
        assert.are.same({ "function", "sq", "stats.lua:5", "unbounded", "inf", "6", "4", "4", "1",
                          "0" }, sq)
        assert.are.equal(4, #lines)
      end)

      it("=json prints one line that a strict JSON parser reads, with report()'s data", function()
        local r = stats("--stats=json")
        assert.are.equal(0, r.code)
        assert.is_truthy(r.err:match("^[^\n]+\n$"), r.err)
        local doc = json.decode(r.err)
        assert.are.equal("0.1.0", doc.methodcache)
        assert.are.equal(2, doc.functions.n)
        local norm, sq = doc.functions[1], doc.functions[2]
        assert.are.same({ "method", "norm", 4, "lru", 128, 9, 1, 1, 1, 1, 0 },
          { norm.kind, norm.name, norm.line, norm.policy, norm.maxsize, norm.hits, norm.misses,
            norm.entries, norm.currsize, norm.objects, norm.collected })
        assert.are.same({ "function", "sq", "unbounded", json.null, 6, 4 },
          { sq.kind, sq.name, sq.policy, sq.maxsize, sq.hits, sq.misses })
        assert.is_truthy(norm.source:match("stats%.lua$") and norm.bytes > 0)
      end)

      it("prints them after an error too, after its report, and at os.exit", function()
        local r = stats("--stats=json", "fail")
        assert.are.equal(1, r.code)
        local report, last = r.err:match("^(.*\n)([^\n]+)\n$")
        assert.is_truthy(report:match("^PROG: %S+stats%.lua:8: failed after the calls\n" ..
                                      "stack traceback:"))
        assert.are.equal(2, json.decode(last).functions.n)
        r = stats("--stats", "exit")
        assert.are.equal(7, r.code)
        assert.is_truthy(r.err:find("2 cached methods and functions", 1, true), r.err)
      end)

      it("escapes what JSON must, and replaces bytes that are not UTF-8", function()
        local name = "'a\"b\\\\c\\n\\255é'"  -- a Lua string: a"b\c, newline, \255, é
        local f = file("odd.lua", "local mc = require('methodcache')\n" ..
                                  "local t = { [" .. name .. "] = mc.cached(print) }\n" ..
                                  "t[" .. name .. "](1)\n")
        local r = sh.run(q(MCHOST) .. " --stats=json " .. q(f))
        local doc = json.decode(r.err)
        assert.are.equal('a"b\\c\n\u{FFFD}é', doc.functions[1].name)
      end)

      it("rejects --stats=other", function()
        local r = normalize(sh.run(q(MCHOST) .. " --stats=xml -e 1"), MCHOST)
        assert.are.equal(1, r.code)
        assert.is_truthy(r.err:match("^PROG: '%-%-stats=xml': the format must be 'json'\n"), r.err)
      end)

      it("prints nothing without --stats, as lua5.4", function()
        local l, m = both(q(script))
        assert.are.same(l, m)
        assert.are.equal("", m.err)
      end)
    end)
  end)
end)

describe("mchost in a terminal (tmux), next to lua5.4", function()
  local has_tmux = sh.run("command -v tmux").code == 0

  -- types each step's text, then its keys, into prog in a fresh tmux
  -- server, and waits for the step's 'wait' on the screen; returns the screen
  local function session(prog, steps)
    local sock = "mcspec" .. tostring(os.time()) .. tostring(math.random(1e9))
    local tmux = "tmux -L " .. sock .. " "
    local function screen()
      return sh.run(tmux .. "capture-pane -p -J -S -100").out
    end
    local function wait_for(pattern)
      for _ = 1, 200 do
        if screen():find(pattern, 1, true) then return true end
        os.execute("sleep 0.05")
      end
      error("timed out waiting for " .. pattern .. " in:\n" .. screen())
    end
    sh.check(tmux .. "new-session -d -x 250 -y 60 " .. q(prog))
    local ok, err = pcall(function()
      wait_for("> ")
      for _, step in ipairs(steps) do
        if step.text then sh.check(tmux .. "send-keys -l " .. q(step.text)) end
        if step.keys then sh.check(tmux .. "send-keys " .. step.keys) end
        if step.wait then wait_for(step.wait) end
      end
    end)
    local s = screen()
    sh.run(tmux .. "kill-server")
    assert(ok, err)
    -- readline pads a line it redraws with blanks
    return (s:gsub(BANNER2, ""):gsub("[ \t]+\n", "\n"):gsub("%s+$", "") .. "\n")
  end

  it("edits lines, recalls history, survives Ctrl-C and takes long lines", function()
    if not has_tmux then pending("no tmux here: make test installs it") return end
    if not has_readline then pending("mchost was built without readline") return end
    local long = ("z"):rep(700)
    local steps = {
      { text = "x = 6 * 7", keys = "Enter" },
      { keys = "Up", wait = "> x = 6 * 7\n> x = 6 * 7" },     -- the last line, back
      { keys = "BSpace" },
      { text = "8", keys = "Enter" },                          -- x = 6 * 8
      { text = "print(x)", keys = "Left Left BSpace" },        -- printx)
      { text = "(", keys = "Enter", wait = "48" },
      -- Ctrl-C once the loop runs (before, readline would end the program)
      { text = "io.write('sp' .. 'in\\n') io.flush() while true do end", keys = "Enter",
        wait = "\nspin\n" },
      { keys = "C-c", wait = "interrupted!" },
      { text = "print('#' .. #'" .. long .. "')", keys = "Enter", wait = "#700" },
      { text = "print('done')", keys = "Enter", wait = "\ndone" },
    }
    local l, m = session(LUA, steps), session(MCHOST, steps)
    assert.are.equal(l, m)
    assert.is_truthy(m:find("> print(x)\n48\n", 1, true), m)
    assert.is_truthy(m:find("interrupted!\nstack traceback:", 1, true), m)
  end)
end)

-- tools/check_api.lua: do the docs and the editor types cover the API?
--
--   lua5.4 tools/check_api.lua                  coverage (make docs, specs)
--   lua5.4 tools/check_api.lua --usage FILE...  misuse in FILEs (from any
--                                               directory: the paths of this
--                                               checkout are found from here)
--
-- (with LUA_PATH='lua/?.lua;;' LUA_CPATH='build/?.so;;', as make docs sets)
--
-- Coverage compares three lists of names with the API the module has at
-- run time: the module's functions and fields, the methods of a cache, and
-- the options of csrc/mc_lopts.c (which of them the constructors accept is
-- asked of the module itself).  Each must be named, with nothing extra, by
--   types/methodcache.lua                the LuaLS definitions (`---@meta`)
--   lua/methodcache.lua, docs/api.ld.lua the LDoc reference (config.ld)
-- and every function of the LuaLS file must annotate each of its parameters.
--
-- Debian 12 has no lua-language-server to run `--check` with these
-- definitions; --usage flags in FILEs two mistakes they make visible: a
-- `methodcache.NAME` they do not declare, and an unknown key in an options
-- table written in the call (`methodcache.method(f, { maxsise = 1 })`).
--
-- Prints one line per problem and exits 1 if there is any.  As a module
-- (`dofile`), returns { coverage = f, usage = f }: each returns a list of
-- problems.

local M = {}

-- the files, from the checkout this file is in (problems name them as here)
local ROOT = debug.getinfo(1, "S").source:match("^@(.-)tools[/\\][^/\\]*$") or ""
local META = "types/methodcache.lua"
local LDOC = { "lua/methodcache.lua", "docs/api.ld.lua" }
local OPTS_C = "csrc/mc_lopts.c"

local function slurp(path, outside)
  local f = assert(io.open(outside and path or ROOT .. path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

local function sorted(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- Problems for the names 'have' lacks and those it has in excess of 'want'.
local function compare(problems, where, what, want, have)
  for _, name in ipairs(sorted(want)) do
    if not have[name] then
      problems[#problems + 1] = ("%s: %s %s is not documented"):format(where, what, name)
    end
  end
  for _, name in ipairs(sorted(have)) do
    if not want[name] then
      problems[#problems + 1] = ("%s: %s %s is documented but does not exist")
                                :format(where, what, name)
    end
  end
end

-- {{{ what the module has at run time

local function runtime_api(methodcache)
  local api = { module = {}, methods = {}, fields = {}, options = {}, cache_options = {} }
  -- names that start with '_' are the specs' introspection (csrc/mc_ldebug.c)
  for k in pairs(methodcache) do
    if not tostring(k):match("^_") then api.module[k] = true end
  end
  local mt = getmetatable(methodcache)
  if type(mt) == "table" and mt.__call then api.module.methodcache = true end

  -- a cache's metatable is protected; its methods are the upvalue of __index
  local c = methodcache.lru(1)
  local index = debug.getmetatable(c).__index
  local _, methods = debug.getupvalue(index, 1)
  for k in pairs(methods) do api.methods[k] = true end
  for _, field in ipairs({ "maxsize", "policy" }) do
    if c[field] ~= nil then api.fields[field] = true end
  end

  -- every option of the C table; a wrong value for an option a function
  -- knows is a type error, for one it does not, "unknown option"
  local function knows(f, args, name)
    local ok, err = pcall(f, table.unpack(args, 1, args.n))
    return not ok and not tostring(err):find("unknown option '" .. name .. "'", 1, true)
  end
  for name in slurp(OPTS_C):gmatch('{"([%w_]+)", K_[%u_]+,') do
    local bad = { [name] = coroutine.running() }
    if knows(methodcache.method, { n = 2, print, bad }, name) then
      api.options[name] = true
    end
    if knows(methodcache.lru, { n = 2, 1, bad }, name) then
      api.cache_options[name] = true
    end
  end
  return api
end

-- }}}

-- {{{ the LuaLS definitions

-- Each ---@class with its ---@field names and parent.
local function meta_classes(text)
  local classes, current = {}, nil
  for line in text:gmatch("[^\n]*") do
    local name, parent = line:match("^%-%-%-@class%s+([%w_.]+)%s*:?%s*([%w_.]*)")
    if name then
      current = { fields = {}, parent = parent ~= "" and parent or nil }
      classes[name] = current
    elseif current then
      local field = line:match("^%-%-%-@field%s+([%w_]+)%??%s")
      if field then
        current.fields[field] = true
      elseif not line:match("^%-%-%-") then
        current = nil
      end
    end
  end
  return classes
end

local function all_fields(classes, name)
  local set, class = {}, classes[name]
  while class do
    for k in pairs(class.fields) do set[k] = true end
    class = classes[class.parent]
  end
  return set
end

-- The functions of the definitions: "methodcache.lru" or "Cache:get" ->
-- { params = {...}, annotated = { name = true }, summary = bool }
local function meta_functions(text)
  local funcs, block = {}, {}
  for line in text:gmatch("[^\n]*") do
    if line:match("^%-%-%-") then
      block[#block + 1] = line
    else
      local name, params = line:match("^function%s+([%w_.:]+)%s*%(([^)]*)%)")
      if name then
        local f = { params = {}, annotated = {}, summary = false }
        for p in params:gmatch("[%w_.]+") do f.params[#f.params + 1] = p end
        for _, b in ipairs(block) do
          local p = b:match("^%-%-%-@param%s+([%w_.]+)%??%s+%S")
          if p then f.annotated[p] = true end
          if not b:match("^%-%-%-@") then f.summary = true end
        end
        funcs[name] = f
      end
      block = {}
    end
  end
  return funcs
end

local function check_meta(problems, api, methodcache_stub)
  local text = slurp(META)
  local funcs = meta_functions(text)
  local module, methods = {}, {}
  for name, f in pairs(funcs) do
    local mod = name:match("^methodcache%.([%w_]+)$")
    local meth = name:match("^Cache:([%w_]+)$")
    if mod then module[mod] = true elseif meth then methods[meth] = true end
    for _, p in ipairs(f.params) do
      if not f.annotated[p] then
        problems[#problems + 1] = ("%s: %s: parameter %s has no ---@param"):format(META, name, p)
      end
    end
    if not f.summary then
      problems[#problems + 1] = ("%s: %s has no description"):format(META, name)
    end
  end
  -- fields of the module table (version) come from the stub it returns
  for k, v in pairs(methodcache_stub) do
    if type(v) ~= "function" then module[k] = true end
  end
  if text:find("\n%-%-%-@overload fun%(factory") then module.methodcache = true end

  local classes = meta_classes(text)
  compare(problems, META, "function or field", api.module, module)
  compare(problems, META, "cache method", api.methods, methods)
  compare(problems, META, "cache field", api.fields, all_fields(classes, "methodcache.Cache"))
  compare(problems, META, "option", api.options, all_fields(classes, "methodcache.Options"))
  compare(problems, META, "cache constructor option", api.cache_options,
          all_fields(classes, "methodcache.CacheOptions"))
end

-- }}}

-- {{{ the LDoc reference

-- The names LDoc documents: explicit `@function`/`@table` names, and the
-- name of the code line after a doc comment; the fields of `@table Options`.
local function ldoc_names(files)
  local names, options, fields_of = {}, {}, nil
  for _, path in ipairs(files) do
    local in_doc, explicit = false, false
    for line in slurp(path):gmatch("[^\n]*") do
      local trimmed = line:match("^%s*(.-)%s*$")
      if trimmed:match("^%-%-%-") then
        in_doc, explicit, fields_of = true, false, nil
      end
      local tag, name = trimmed:match("^%-%-%s*@(%a+)%s+([%w_.:]+)")
      if in_doc and tag == "function" then
        names[name], explicit = true, true
      elseif in_doc and tag == "table" then
        explicit, fields_of = true, name
      elseif in_doc and tag == "field" and fields_of == "Options" then
        options[name] = true
      elseif in_doc and tag == "field" and fields_of == nil then
        names[name], explicit = true, true  -- a field of the module itself
      elseif in_doc and not trimmed:match("^%-%-") then
        in_doc = false
        if not explicit then
          name = trimmed:match("^([%w_]+)%s*=") or trimmed:match("^function%s+([%w_.:]+)")
          if name then names[name] = true end
        end
      end
    end
  end
  return names, options
end

local function check_ldoc(problems, api)
  local names, options = ldoc_names(LDOC)
  local module, methods = {}, {}
  for name in pairs(names) do
    local meth = name:match("^Cache:([%w_]+)$")
    if meth then methods[meth] = true else module[name] = true end
  end
  local where = table.concat(LDOC, ", ")
  compare(problems, where, "function or field", api.module, module)
  compare(problems, where, "cache method", api.methods, methods)
  compare(problems, where, "option", api.options, options)
  local ref = slurp(LDOC[2])
  for field in pairs(api.fields) do
    if not ref:find("`c." .. field .. "`", 1, true) then
      problems[#problems + 1] = ("%s: cache field %s is not documented"):format(LDOC[2], field)
    end
  end
end

-- }}}

-- Problems of the docs and definitions against 'methodcache' (default: the
-- module itself).
function M.coverage(methodcache)
  methodcache = methodcache or require("methodcache")
  local problems = {}
  local chunk, err = loadfile(ROOT .. META, "t", {})
  if not chunk then return { META .. ": not valid Lua: " .. err } end
  local ok, stub = pcall(chunk)
  if not ok or type(stub) ~= "table" then
    return { META .. ": does not return the module's table" }
  end
  local api = runtime_api(methodcache)
  check_meta(problems, api, stub)
  check_ldoc(problems, api)
  return problems
end

-- {{{ usage

-- The text with strings and comments blanked (same length, so positions
-- and line numbers stay), for scanning code only.
local function code_only(text)
  local out, i, n = {}, 1, #text
  local function blank(s) return (s:gsub("[^\n]", " ")) end
  while i <= n do
    local c = text:sub(i, i)
    local long = text:match("^%-%-%[(=*)%[", i) or text:match("^%[(=*)%[", i)
    if long then
      local open = text:match("^%-%-", i) and "--[" .. long .. "[" or "[" .. long .. "["
      local close = text:find("]" .. long .. "]", i + #open, true)
      local j = close and close + #long + 1 or n
      out[#out + 1] = blank(text:sub(i, j))
      i = j + 1
    elseif text:match("^%-%-", i) then
      local j = text:find("\n", i, true) or n + 1
      out[#out + 1] = blank(text:sub(i, j - 1))
      i = j
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n and text:sub(j, j) ~= c do
        if text:sub(j, j) == "\\" then j = j + 1 end
        j = j + 1
      end
      out[#out + 1] = c .. blank(text:sub(i + 1, j - 1)) .. c
      i = j + 1
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return table.concat(out)
end

local function line_of(text, pos)
  local _, count = text:sub(1, pos):gsub("\n", "")
  return count + 1
end

-- The keys of a table constructor's own level ("{ a = 1, b = { c = 2 } }"
-- gives a and b).
local function top_keys(constructor)
  local inner = constructor:sub(2, -2):gsub("%b{}", "{}"):gsub("%b()", "()")
  local keys = {}
  for item in (inner .. ","):gmatch("([^,;]*)[,;]") do
    local key = item:match("^%s*([%a_][%w_]*)%s*=[^=]")
    if key then keys[#keys + 1] = key end
  end
  return keys
end

-- Problems in the files: names the definitions do not declare, and unknown
-- options in an options table written in the call.
function M.usage(files, chunks)
  local meta = slurp(META)
  local declared = {}
  for name in pairs(meta_functions(meta)) do
    local mod = name:match("^methodcache%.([%w_]+)$")
    if mod then declared[mod] = true end
  end
  for name in meta:gmatch("\nmethodcache%.([%w_]+)%s*=") do declared[name] = true end
  local classes = meta_classes(meta)
  local options = all_fields(classes, "methodcache.Options")
  local cache_options = all_fields(classes, "methodcache.CacheOptions")
  local takes_options = { method = options, cached = options }
  for _, name in ipairs({ "lru", "lfu", "fifo", "rr", "ttl", "tlru", "unbounded" }) do
    takes_options[name] = cache_options
  end

  local problems = {}
  local function scan(where, text)
    local code = code_only(text)
    for pos, name in code:gmatch("()methodcache%.([%a_][%w_]*)") do
      if not declared[name] then
        problems[#problems + 1] = ("%s:%d: methodcache.%s is not declared")
                                  :format(where, line_of(code, pos), name)
      end
    end
    for pos, name, args in code:gmatch("()methodcache%.([%a_][%w_]*)%s*(%b())") do
      local known = takes_options[name]
      local last = known and args:match("(%b{})%s*%)$")
      for _, key in ipairs(last and top_keys(last) or {}) do
        if not known[key] then
          problems[#problems + 1] = ("%s:%d: methodcache.%s has no option '%s'")
                                    :format(where, line_of(code, pos), name, key)
        end
      end
    end
  end
  for _, path in ipairs(files or {}) do scan(path, slurp(path, true)) end
  for _, c in ipairs(chunks or {}) do scan(c.name, c.text) end
  return problems
end

-- }}}

local function main(args)
  local problems
  if args[1] == "--usage" then
    problems = M.usage({ table.unpack(args, 2) })
  else
    problems = M.coverage()
  end
  for _, p in ipairs(problems) do io.stderr:write("check_api: ", p, "\n") end
  if #problems > 0 then return 1 end
  print("check_api: " .. (args[1] == "--usage" and "no misuse found" or
        "the docs and types/methodcache.lua cover the API"))
  return 0
end

if arg and arg[0] and arg[0]:match("check_api%.lua$") then
  os.exit(main(arg))
end
return M

-- spec/support/json.lua: a strict JSON parser (RFC 8259) for the specs,
-- which check that what mchost --stats=json prints is JSON. It accepts
-- exactly the grammar: no trailing commas, no comments, no leading zeros,
-- no single quotes, no raw control characters or invalid UTF-8 in strings,
-- no text after the value (but whitespace).
--
--   local json = require("spec.support.json")
--   local value = json.decode(text)   -- raises "json: ... at byte N" if not JSON
--
-- Objects become tables, arrays become sequences with n = count, null
-- becomes json.null (so that it can be an array item or a field).
local json = { null = setmetatable({}, { __tostring = function() return "null" end }) }

local function fail(pos, what)
  error(("json: %s at byte %d"):format(what, pos), 0)
end

local ws = "^[ \t\n\r]*()"
local value -- forward

local function skip(s, i)
  return s:match(ws, i)
end

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f",
                  n = "\n", r = "\r", t = "\t" }

local function str(s, i)
  -- s:sub(i, i) == '"'
  local out, j = {}, i + 1
  while true do
    local c = s:sub(j, j)
    if c == "" then fail(j, "unfinished string") end
    if c == '"' then return table.concat(out), j + 1 end
    if c:byte() < 0x20 then fail(j, "control character in a string") end
    if c == "\\" then
      local e = s:sub(j + 1, j + 1)
      if escapes[e] then
        out[#out + 1] = escapes[e]
        j = j + 2
      elseif e == "u" then
        local hex = s:match("^%x%x%x%x", j + 2)
        if not hex then fail(j, "bad \\u escape") end
        local cp = tonumber(hex, 16)
        j = j + 6
        if cp >= 0xD800 and cp <= 0xDBFF then -- a surrogate pair
          local lo = s:match("^\\u([dD][c-fC-F]%x%x)", j)
          if not lo then fail(j, "lone high surrogate") end
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (tonumber(lo, 16) - 0xDC00)
          j = j + 6
        elseif cp >= 0xDC00 and cp <= 0xDFFF then
          fail(j - 6, "lone low surrogate")
        end
        out[#out + 1] = utf8.char(cp)
      else
        fail(j, "bad escape")
      end
    else
      local run = s:match('^[^"\\\0-\31]+', j)
      if not utf8.len(run) then fail(j, "invalid UTF-8 in a string") end
      out[#out + 1] = run
      j = j + #run
    end
  end
end

-- -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][-+]?[0-9]+)?
local function num(s, i)
  local j = i + (s:sub(i, i) == "-" and 1 or 0)
  local int = s:match("^0", j) or s:match("^[1-9]%d*", j)
  if not int then fail(i, "bad number") end
  j = j + #int
  for _, part in ipairs({ { "^%.", "^%.%d+" }, { "^[eE]", "^[eE][-+]?%d+" } }) do
    if s:match(part[1], j) then
      local text = s:match(part[2], j)
      if not text then fail(j, "bad number") end
      j = j + #text
    end
  end
  local text = s:sub(i, j - 1)
  return math.tointeger(tonumber(text)) or tonumber(text), j
end

local function list(s, i, close, item)
  local t, n = {}, 0
  i = skip(s, i + 1)
  if s:sub(i, i) == close then return t, i + 1, 0 end
  while true do
    n = n + 1
    i = item(t, n, i)
    i = skip(s, i)
    local c = s:sub(i, i)
    if c == close then return t, i + 1, n end
    if c ~= "," then fail(i, "',' or '" .. close .. "' expected") end
    i = skip(s, i + 1)
  end
end

function value(s, i)
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    return list(s, i, "}", function(t, _, j)
      if s:sub(j, j) ~= '"' then fail(j, "string key expected") end
      local k
      k, j = str(s, j)
      j = skip(s, j)
      if s:sub(j, j) ~= ":" then fail(j, "':' expected") end
      t[k], j = value(s, j + 1)
      return j
    end)
  elseif c == "[" then
    local t, j, n = list(s, i, "]", function(t, n, j)
      t[n], j = value(s, j)
      return j
    end)
    t.n = n
    return t, j
  elseif c == '"' then
    return str(s, i)
  elseif c == "-" or c:match("%d") then
    return num(s, i)
  end
  for word, v in pairs({ ["true"] = true, ["false"] = false, null = json.null }) do
    if s:sub(i, i + #word - 1) == word then return v, i + #word end
  end
  fail(i, c == "" and "unexpected end" or "unexpected '" .. c .. "'")
end

function json.decode(s)
  local v, i = value(s, 1)
  i = skip(s, i)
  if i <= #s then fail(i, "text after the value") end
  return v
end

return json

-- bench/svg.lua: the chart of a benchmark run, as a hand-written SVG (no dependency).
--   local svg = lib.load("svg.lua")
--   svg(info, sections, summary) --> the text of bench/results/latest.svg
-- Left: ns per operation by workload (one group of bars per workload) and implementation
-- (one bar each), log scale, from the sections of run.lua that report ns: those with an
-- "ns/call" column (one workload each, named by the title up to its comma) and those
-- whose title says "ns/op" (one workload per column). Right: the GC curves of gc.lua,
-- ms per full collection against objects alive, log-log, one plot per shape.

local FONT = 'font-family="sans-serif" font-size="11"'
local PALETTE = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" }
local STORE_COLOR = { uncached = "#7f7f7f", object = "#1f77b4", weak = "#d62728" }

local function esc(s)
  return (tostring(s):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

local function fmt(v)
  if v >= 100 then return string.format("%.0f", v) end
  if v >= 10 then return string.format("%.1f", v) end
  if v >= 1 then return string.format("%.2f", v) end
  return string.format("%.3g", v)
end

-- The workloads: { name =, bars = { { label, ns }, ... } }, in the order of the sections.
local function workloads(sections)
  local out = {}
  for _, sec in ipairs(sections) do
    local col
    for i, h in ipairs(sec.headers) do
      if h == "ns/call" then col = i end
    end
    if col then
      local w = { name = sec.title:match("^[^,]*"), bars = {} }
      for _, r in ipairs(sec.rows) do
        if type(r[col]) == "number" then w.bars[#w.bars + 1] = { r[1], r[col] } end
      end
      out[#out + 1] = w
    elseif sec.title:find("ns/op", 1, true) then
      for c = 2, #sec.headers do
        local w = { name = sec.title:match("^(.-),") .. ": " .. sec.headers[c], bars = {} }
        for _, r in ipairs(sec.rows) do
          local v = r[c]
          if type(v) == "number" and v == v then w.bars[#w.bars + 1] = { r[1], v } end
        end
        out[#out + 1] = w
      end
    end
  end
  return out
end

local function log10(x) return math.log(x, 10) end

-- Bars at (x0, y0), 'width' wide; returns the SVG parts and the height used.
local function bars(ws, x0, y0, width)
  local parts, colors, ncolor = {}, {}, 0
  local lo, hi = math.huge, 0
  for _, w in ipairs(ws) do
    for _, b in ipairs(w.bars) do
      lo, hi = math.min(lo, b[2]), math.max(hi, b[2])
      if not colors[b[1]] then
        ncolor = ncolor + 1
        colors[b[1]] = PALETTE[(ncolor - 1) % #PALETTE + 1]
      end
    end
  end
  if hi == 0 then return parts, 0 end
  local dlo, dhi = math.floor(log10(lo)), math.ceil(log10(hi))
  if dhi == dlo then dhi = dlo + 1 end
  local labelw = 190
  local plotw = width - labelw - 40
  local function xof(v) return x0 + labelw + (log10(v) - dlo) / (dhi - dlo) * plotw end
  local y = y0 + 16
  parts[#parts + 1] = ('<text x="%d" y="%d" font-weight="bold">ns per operation (log scale; ' ..
    'shorter is faster)</text>'):format(x0, y0)
  local top = y
  for _, w in ipairs(ws) do
    y = y + 16
    parts[#parts + 1] = ('<text x="%d" y="%d" font-weight="bold">%s</text>'):format(
      x0, y, esc(w.name))
    for _, b in ipairs(w.bars) do
      y = y + 13
      local x1 = xof(b[2])
      parts[#parts + 1] = ('<text x="%d" y="%d" text-anchor="end">%s</text>'):format(
        x0 + labelw - 4, y, esc(b[1]))
      parts[#parts + 1] = ('<rect x="%d" y="%d" width="%.1f" height="10" fill="%s"/>'):format(
        x0 + labelw, y - 9, math.max(1, x1 - x0 - labelw), colors[b[1]])
      parts[#parts + 1] = ('<text x="%.1f" y="%d">%s</text>'):format(x1 + 3, y, fmt(b[2]))
    end
    y = y + 4
  end
  for d = dlo, dhi do
    local x = xof(10 ^ d)
    parts[#parts + 1] = ('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc"/>'):format(
      x, top, x, y)
    parts[#parts + 1] = ('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'):format(
      x, y + 12, fmt(10 ^ d))
  end
  return parts, y + 16 - y0
end

-- One log-log plot of the curves of one shape, in the box (x0, y0, w, h).
local function gcplot(curves, shape, x0, y0, w, h)
  local parts = {}
  local xlo, xhi, ylo, yhi = math.huge, 0, math.huge, 0
  for _, c in ipairs(curves) do
    for _, p in ipairs(c.points) do
      xlo, xhi = math.min(xlo, p[1]), math.max(xhi, p[1])
      ylo, yhi = math.min(ylo, p[2]), math.max(yhi, p[2])
    end
  end
  if xhi == 0 then return parts end
  local dlo, dhi = math.floor(log10(ylo)), math.ceil(log10(yhi))
  local px, py, pw, ph = x0 + 50, y0 + 20, w - 60, h - 50
  local xspan = math.max(1, math.log(xhi / xlo, 2))
  local function X(n) return px + math.log(n / xlo, 2) / xspan * pw end
  local function Y(v) return py + ph - (log10(v) - dlo) / math.max(1, dhi - dlo) * ph end
  parts[#parts + 1] = ('<text x="%d" y="%d" font-weight="bold">full collection, ms ' ..
    '(log-log): %s</text>'):format(x0, y0 + 8, shape == "chain" and "chain (node:next())" or
    "binary tree (node:child(i))")
  parts[#parts + 1] = ('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>')
    :format(px, py, pw, ph)
  for d = dlo, dhi do
    local y = Y(10 ^ d)
    parts[#parts + 1] = ('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>'):format(
      px, y, px + pw, y)
    parts[#parts + 1] = ('<text x="%d" y="%.1f" text-anchor="end">%s</text>'):format(
      px - 4, y + 4, fmt(10 ^ d))
  end
  local n = xlo
  while n <= xhi do
    parts[#parts + 1] = ('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'):format(
      X(n), py + ph + 14, n >= 1000 and (n / 1000 .. "k") or n)
    n = n * 2
  end
  parts[#parts + 1] = ('<text x="%d" y="%d" text-anchor="middle">objects alive</text>'):format(
    px + pw // 2, py + ph + 28)
  local ly = py + 4
  for _, c in ipairs(curves) do
    if #c.points > 0 then
      local pts = {}
      for _, p in ipairs(c.points) do pts[#pts + 1] = ("%.1f,%.1f"):format(X(p[1]), Y(p[2])) end
      local color = STORE_COLOR[c.store] or "#000"
      parts[#parts + 1] = ('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>')
        :format(table.concat(pts, " "), color)
      for _, p in ipairs(c.points) do
        parts[#parts + 1] = ('<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>'):format(
          X(p[1]), Y(p[2]), color)
      end
      ly = ly + 14
      parts[#parts + 1] = ('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>'):format(
        px + 8, ly - 9, color)
      parts[#parts + 1] = ('<text x="%d" y="%d">%s</text>'):format(px + 22, ly,
        c.store == "uncached" and "uncached (plain fields)" or "store = \"" .. c.store .. "\"")
    end
  end
  return parts
end

return function(info, sections, summary)
  local W = 1000
  local head = ("methodcache %s, %s, %s, %s"):format(info.methodcache, info.lua, info.cpu,
    info.date)
  local body = { ('<text x="10" y="18" font-size="13" font-weight="bold">%s</text>'):format(
    esc(head)) }
  local bparts, bh = bars(workloads(sections), 10, 44, W // 2)
  for _, p in ipairs(bparts) do body[#body + 1] = p end
  local curves = summary.gc_curves or {}
  local gh = 0
  for i, shape in ipairs({ "chain", "tree" }) do
    local mine = {}
    for _, c in ipairs(curves) do
      if c.shape == shape then mine[#mine + 1] = c end
    end
    if #mine > 0 then
      for _, p in ipairs(gcplot(mine, shape, W // 2 + 10, 34 + (i - 1) * 330, W // 2 - 20, 320)) do
        body[#body + 1] = p
      end
      gh = i * 330
    end
  end
  local H = math.max(bh + 50, gh + 50)
  return table.concat({
    ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s>')
      :format(W, H, W, H, FONT),
    ('<rect width="%d" height="%d" fill="white"/>'):format(W, H),
    table.concat(body, "\n"),
    "</svg>", "",
  }, "\n")
end

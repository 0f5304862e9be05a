-- Specs for the key hash at the C level: spec/support/siphash_check.c, compiled here
-- against csrc/mc_key.h and csrc/mc_secret.c (with $CC, default cc) and run.
-- It checks a plain SipHash against the published SipHash-2-4 and SipHash-1-3 vectors,
-- then mc_key.h's word-by-word hash against those vectors and that reference, each key
-- writer against the words that mc_key.h documents, and the secrets; see its header.

-- Runs a shell command; returns its output and whether it exited with status 0.
local function run(cmd)
  local f = assert(io.popen(cmd .. " 2>&1"))
  local out = f:read("a")
  local ok = f:close()
  return out, ok == true
end

-- Compiles the check (extra: more compiler flags) into a temporary file.
local function build(extra)
  local exe = os.tmpname()
  local cc = os.getenv("CC") or "cc"
  local out, ok = run(("%s -std=c99 -O2 -Wall -Wextra %s -Icsrc -o %s " ..
    "spec/support/siphash_check.c csrc/mc_key.c csrc/mc_secret.c"):format(cc, extra, exe))
  assert(ok, "compiling spec/support/siphash_check.c failed:\n" .. out)
  return exe
end

-- Runs the check and returns how many checks passed (fails the spec on any failure).
local function passed(exe)
  local out, ok = run(exe)
  os.remove(exe)
  assert.is_true(ok, out)
  return tonumber(out:match("^ok (%d+)\n$"))
end

describe("the key hash", function()
  it("is SipHash-1-3 over the word encoding mc_key.h documents, keyed by a random secret",
    function()
      -- every check ran: 16 + 18 vectors for the reference, 8 streamed, 200 random
      -- keys and words, 2 for each of 17 writer cases, 41 string lengths, 1 node,
      -- 4 rehashes (both mixers), 2 on secrets
      assert.are.equal(324, passed(build("")))
    end)

  it("still gets a nonzero secret that differs per state when the system gives none",
    function()
      -- MC_SECRET_NO_OS leaves only the last resort: clocks, addresses, the pid
      assert.are.equal(324, passed(build("-DMC_SECRET_NO_OS")))
    end)
end)

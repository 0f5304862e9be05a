#!/usr/bin/python3
"""Record random operation traces from cachetools 5.2 for the differential spec.

Run with Debian's interpreter, which has python3-cachetools 5.2:

    /usr/bin/python3 tools/gen_cachetools_traces.py > spec/data/cachetools_traces.lua

The output is a Lua chunk returning the traces; spec/cachetools_spec.lua replays
them against methodcache.lru, methodcache.fifo and methodcache.ttl.  Every trace
has a fixed seed, so the output is the same on every run.

What is recorded comes from cachetools itself: results of its public operations,
the keys and values that its popitem() evicts for size, and, at snapshots, the
order of its internal recency/insertion lists (see SEMANTICS below).
"""

import random
import sys

import cachetools
from cachetools import Cache, FIFOCache, LRUCache, TTLCache

if not cachetools.__version__.startswith("5.2"):
    sys.exit("need cachetools 5.2 (Debian python3-cachetools, /usr/bin/python3), "
             "found %s" % cachetools.__version__)

SEMANTICS = """\
Semantics of cachetools %s, read from its source and recorded here:
- get: Cache.get(k) is `if k in self: return self[k]`, so a hit goes through
  __getitem__ and is a use (LRUCache and TTLCache move k to most recently used);
  a miss changes nothing.  FIFOCache has no __getitem__ of its own: get never
  reorders.  There is no peek in cachetools; `k in cache` (recorded as `has`)
  never reorders.
- set: on a new key, popitem() is called while the cache is full, before the key
  is stored; on an existing key only the value changes (no eviction).  LRU: the
  key becomes most recently used.  FIFO: a re-set existing key is moved to the
  back (newest), as if first inserted now.  TTL: the key becomes most recently
  used and its expiry is reset to now + ttl.  maxsize 0: every set raises
  ValueError ("value too large"), recorded as set -> false, nothing stored.
- TTL expiry: an entry set at time t lives while timer() < t + ttl; it is
  expired from timer() >= t + ttl on (the boundary instant is already expired).
  get/has/pop of an expired entry behave as a miss and leave it in place
  (lazily); every set first drops all expired entries (expire(now)) before any
  size eviction, so size evictions only ever pick a live entry, the least
  recently used one (set or get-hit are uses).  len(cache) also drops expired
  entries first.  `del cache[k]` on an expired entry removes it and raises
  KeyError: recorded as delete -> false.
- expire(): in 5.2 returns None; the count recorded is the number of entries it
  removed (measured around the call).
- snapshot order (pairs order in methodcache: the entry evicted last first):
  LRU: reversed LRUCache.__order (most recently used first); FIFO: reversed
  FIFOCache.__order (newest first); TTL: after len() dropped expired entries,
  reversed TTLCache.__links (most recently used first).  Note that iterating a
  LRUCache/FIFOCache yields insertion order of its data dict and a TTLCache its
  expiry order: neither is the eviction order, so the internals are used.
""" % cachetools.__version__

FORMAT = """\
Trace format: { name, policy, maxsize, ttl (ttl only), seed, ops = { op... } }
  {"get", k, v}            get k; v is the value of a hit, absent (nil) on a miss
  {"set", k, v, ok, ev}    set k = v; ok false when not stored (maxsize 0);
                           ev = { k1, v1, k2, v2, ... } evicted for size in order,
                           absent when nothing was evicted
  {"delete", k, existed}   delete k; whether a live entry was there
  {"pop", k, v}            pop k; the removed value, absent (nil) when not there
  {"has", k, bool}         k in cache (no reordering)
  {"clear"}                empty the cache (not in ttl traces)
  {"tick", dt}             ttl only: the fake clock advances by dt (clock starts at 0)
  {"expire", n, xt}        ttl only: expire() removed n entries now; xt is the
                           total number of entries that left by expiring so far
                           (inside set, len, expire, or delete of an expired one)
  {"snapshot", len, { k1, v1, ... }, xt}
                           len(cache) and the contents, the entry evicted last
                           first; xt as above (ttl only)
"""


class Recorder:
    """Mixin logging what popitem() evicts for size."""

    def init_recorder(self):
        self.evicted = []
        self.clearing = False

    def popitem(self):
        key, value = super().popitem()
        if not self.clearing:
            self.evicted.append((key, value))
        return key, value


class RLRU(Recorder, LRUCache):
    def order(self):
        return list(reversed(self._LRUCache__order))


class RFIFO(Recorder, FIFOCache):
    def order(self):
        return list(reversed(self._FIFOCache__order))


class RTTL(Recorder, TTLCache):
    expired_total = 0

    def expire(self, time=None):
        before = Cache.__len__(self)
        super().expire(time)
        n = before - Cache.__len__(self)
        self.expired_total += n
        return n

    def order(self):
        return list(reversed(self._TTLCache__links))


def raw_data(cache):
    return cache._Cache__data


def lua_value(x):
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, str):
        assert all(c.isalnum() or c in "_-." for c in x), x
        return '"%s"' % x
    if x is None:
        return "nil"
    raise TypeError(x)


def lua_list(xs):
    return "{" + ",".join(lua_value(x) for x in xs) + "}"


def key_pool(n, rng):
    """n distinct keys, integers and short strings, with numeric-looking strings
    ("1" next to 1) to check that they stay distinct.  No floats, no booleans
    (in Python True == 1; in Lua 1 == 1.0)."""
    pool = []
    i = 0
    while len(pool) < n:
        pool.append(i)
        if len(pool) < n:
            pool.append(str(i) if i % 3 == 1 else "k%d" % i)
        if len(pool) < n and i % 4 == 2:
            pool.append(-i)
        i += 1
    rng.shuffle(pool)
    return pool


def pick_key(pool, rng):
    # a hot quarter of the keys gets half of the accesses: more hits, more reordering
    hot = pool[: max(1, len(pool) // 4)]
    return rng.choice(hot) if rng.random() < 0.5 else rng.choice(pool)


def encode_op(op):
    # drop trailing None so `{"get", k}` means a miss
    while op and op[-1] is None:
        op = op[:-1]
    return "{" + ",".join(
        lua_list(x) if isinstance(x, list) else lua_value(x) for x in op) + "}"


def gen_trace(name, policy, maxsize, seed, nops, nkeys, ttl=None, dt_choices=None,
              snapshot_every=40):
    rng = random.Random(seed)
    pool = key_pool(nkeys, rng)
    clock = [0]
    if policy == "lru":
        cache = RLRU(maxsize)
        weights = {"get": 40, "set": 38, "delete": 6, "pop": 4, "has": 8, "clear": 0.2}
    elif policy == "fifo":
        cache = RFIFO(maxsize)
        weights = {"get": 40, "set": 38, "delete": 6, "pop": 4, "has": 8, "clear": 0.2}
    elif policy == "ttl":
        cache = RTTL(maxsize, ttl, timer=lambda: clock[0])
        weights = {"get": 35, "set": 35, "delete": 5, "pop": 3, "has": 7,
                   "tick": 12, "expire": 3}
    else:
        raise ValueError(policy)
    cache.init_recorder()
    names = list(weights)
    wts = [weights[n] for n in names]
    ops = []

    def snapshot():
        n = len(cache)  # TTL: drops expired entries first
        order = cache.order()
        data = raw_data(cache)
        assert sorted(map(repr, order)) == sorted(map(repr, data)), (order, data)
        assert n == len(order)
        flat = []
        for k in order:
            flat += [k, data[k]]
        op = ["snapshot", n, flat]
        if policy == "ttl":
            op.append(cache.expired_total)
        ops.append(op)

    for i in range(nops):
        what = rng.choices(names, wts)[0]
        k = pick_key(pool, rng)
        if what == "get":
            missing = object()
            v = cache.get(k, missing)
            assert v is not None
            ops.append(["get", k, None if v is missing else v])
        elif what == "set":
            v = rng.randrange(1000)
            cache.evicted = []
            try:
                cache[k] = v
                ok = True
            except ValueError:
                ok = False
            ev = []
            for ek, evv in cache.evicted:
                ev += [ek, evv]
            cache.evicted = []
            ops.append(["set", k, v, ok, ev or None])
        elif what == "delete":
            present = k in raw_data(cache)
            try:
                del cache[k]
                existed = True
            except KeyError:
                existed = False
                if present:  # TTL: an expired entry, removed by del anyway
                    assert policy == "ttl" and k not in raw_data(cache)
                    cache.expired_total += 1
            ops.append(["delete", k, existed])
        elif what == "pop":
            missing = object()
            v = cache.pop(k, missing)
            ops.append(["pop", k, None if v is missing else v])
        elif what == "has":
            ops.append(["has", k, k in cache])
        elif what == "clear":
            cache.clearing = True
            cache.clear()
            cache.clearing = False
            ops.append(["clear"])
        elif what == "tick":
            dt = rng.choice(dt_choices)
            clock[0] += dt
            ops.append(["tick", dt])
        elif what == "expire":
            n = cache.expire()
            ops.append(["expire", n, cache.expired_total])
        assert not cache.evicted
        if (i + 1) % snapshot_every == 0:
            snapshot()
    snapshot()

    out = []
    head = "{name=%s,policy=%s,maxsize=%d,seed=%d," % (
        lua_value(name), lua_value(policy), maxsize, seed)
    if ttl is not None:
        head += "ttl=%s," % lua_value(ttl)
    out.append(head + "ops={")
    line = ""
    for op in ops:
        s = encode_op(op) + ","
        if len(line) + len(s) > 100:
            out.append(line)
            line = ""
        line += s
    if line:
        out.append(line)
    out.append("}},")
    return "\n".join(out), len(ops)


# (policy, maxsize, trace number, seed, ops, number of keys, ttl, clock steps)
TRACES = [
    ("lru", 0, 1, 1001, 300, 4, None, None),
    ("lru", 1, 1, 1101, 2000, 3, None, None),
    ("lru", 2, 1, 1201, 3000, 4, None, None),
    ("lru", 5, 1, 1501, 4000, 9, None, None),
    ("lru", 5, 2, 1502, 4000, 20, None, None),
    ("lru", 16, 1, 1601, 5000, 26, None, None),
    ("fifo", 0, 1, 2001, 300, 4, None, None),
    ("fifo", 1, 1, 2101, 2000, 3, None, None),
    ("fifo", 2, 1, 2201, 3000, 4, None, None),
    ("fifo", 5, 1, 2501, 4000, 9, None, None),
    ("fifo", 5, 2, 2502, 4000, 20, None, None),
    ("fifo", 16, 1, 2601, 5000, 26, None, None),
    ("ttl", 0, 1, 3001, 300, 4, 3, [0, 1, 2]),
    ("ttl", 1, 1, 3101, 2000, 3, 3, [0, 1, 1, 2, 3]),
    ("ttl", 2, 1, 3201, 3000, 4, 4, [0, 1, 1, 2, 4]),
    ("ttl", 5, 1, 3501, 4000, 9, 10, [0, 1, 1, 2, 3, 10]),
    ("ttl", 5, 2, 3502, 4000, 14, 2.5, [0, 0.5, 0.5, 1, 2.5]),
    ("ttl", 16, 1, 3601, 5000, 26, 20, [0, 1, 2, 3, 5, 20]),
]


def main():
    out = sys.stdout
    out.write("-- Generated by tools/gen_cachetools_traces.py from cachetools %s: do not edit.\n"
              % cachetools.__version__)
    out.write("-- Regenerate: /usr/bin/python3 tools/gen_cachetools_traces.py"
              " > spec/data/cachetools_traces.lua\n--\n")
    for line in (SEMANTICS + "\n" + FORMAT).splitlines():
        out.write(("-- " + line).rstrip() + "\n")
    out.write("return {\ncachetools=%s,\ntraces={\n" % lua_value(cachetools.__version__))
    total = 0
    for policy, maxsize, num, seed, nops, nkeys, ttl, dts in TRACES:
        name = "%s-%d-%d" % (policy, maxsize, num)
        text, n = gen_trace(name, policy, maxsize, seed, nops, nkeys, ttl, dts)
        out.write(text + "\n")
        total += n
        print("%s: %d ops recorded" % (name, n), file=sys.stderr)
    out.write("}}\n")
    print("total: %d ops in %d traces" % (total, len(TRACES)), file=sys.stderr)


if __name__ == "__main__":
    main()

//! The server-side half: the Lua scripts Redis runs and the keys they use.
//!
//! Each script runs atomically in Redis, so reservations from any number of
//! processes never interleave: no read-modify-write race between reading a
//! window and recording a send. Time is Redis's own (`TIME`), so the
//! workers' clocks do not matter.
//!
//! # Data
//!
//! A scope (an organization, or a key's fingerprint) has five keys, all in
//! one cluster hash slot (`{…}` is the scope):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `<prefix>:{<scope>}:minute:order` | sorted set | the minute window's buckets, by index |
//! | `<prefix>:{<scope>}:minute:count` | hash | sends per bucket, and `total` |
//! | `<prefix>:{<scope>}:day:order` | sorted set | the day window's buckets |
//! | `<prefix>:{<scope>}:day:count` | hash | sends per bucket, and `total` |
//! | `<prefix>:{<scope>}:hold` | string | no send before this instant (µs), from a server's word |
//!
//! Each window is the in-process limiter's sliding-window log, kept as
//! counts per bucket: a send at `t` is counted in bucket `⌊t / width⌋` and
//! stops counting when that bucket's *end* is a window length old, which
//! can only make a slot come later (by less than a bucket: 100 ms for the
//! minute, 60 s for the day), never earlier. So a window holds at most
//! `length / width` buckets (600 and 1,440), whatever the plan, plus those
//! reserved ahead. Every key expires once nothing in it counts any more.

/// Width of a minute-window bucket, in µs.
pub(crate) const MINUTE_BUCKET_US: u64 = 100_000;
/// Width of a day-window bucket, in µs.
pub(crate) const DAY_BUCKET_US: u64 = 60_000_000;

/// Reserves one send in both windows.
///
/// `KEYS`: minute order, minute count, day order, day count, hold.
/// `ARGV`: per-minute limit, per-day limit (0: not paced), the cap on
/// waiting (µs), the caller's `within` (µs; -1: none), the two bucket
/// widths (µs).
///
/// Returns `{1, wait_us}` when a slot was reserved at now + wait, or
/// `{0, wait_us}` when the wait (or a quota's wait beyond the cap) is
/// longer than `within`; nothing is recorded then.
///
/// Mirrors `RateLimiter::reserve_within` in `linkt-backoff`: every
/// recorded send counts, those reserved ahead included; a quota whose slot
/// is beyond the cap is not waited for (the send is recorded at once, or
/// when the hold ends) unless the caller cannot wait that long. A slot is
/// judged against the cap by its bucket's start, so a wait may exceed the
/// cap by less than a bucket (100 ms).
pub(crate) const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max_wait = tonumber(ARGV[3])
local within = tonumber(ARGV[4])
local windows = {
  {order = KEYS[1], count = KEYS[2], limit = tonumber(ARGV[1]), length = 60000000, width = tonumber(ARGV[5])},
  {order = KEYS[3], count = KEYS[4], limit = tonumber(ARGV[2]), length = 86400000000, width = tonumber(ARGV[6])},
}
local function str(n) return string.format('%.0f', n) end

local hold = tonumber(redis.call('GET', KEYS[5]) or '0') or 0
if hold < now then hold = now end
local at = hold
local beyond_cap = -1

for _, w in ipairs(windows) do
  if w.limit > 0 then
    -- Buckets whose end is a window length old no longer count.
    local last_gone = str(math.floor((now - w.length) / w.width) - 1)
    while true do
      local gone = redis.call('ZRANGEBYSCORE', w.order, '-inf', last_gone, 'LIMIT', 0, 500)
      if #gone == 0 then break end
      local counts = redis.call('HMGET', w.count, unpack(gone))
      local n = 0
      for _, c in ipairs(counts) do n = n + (tonumber(c) or 0) end
      redis.call('HDEL', w.count, unpack(gone))
      redis.call('ZREM', w.order, unpack(gone))
      redis.call('HINCRBY', w.count, 'total', -n)
    end
    local total = tonumber(redis.call('HGET', w.count, 'total') or '0') or 0
    local slot = now
    if total >= w.limit then
      -- The send that must stop counting for one more to fit, oldest first.
      local must = total - w.limit + 1
      local seen = 0
      local offset = 0
      local found = nil
      while found == nil do
        local buckets = redis.call('ZRANGE', w.order, offset, offset + 99)
        if #buckets == 0 then break end
        local counts = redis.call('HMGET', w.count, unpack(buckets))
        for i, b in ipairs(buckets) do
          seen = seen + (tonumber(counts[i]) or 0)
          if seen >= must then
            found = (tonumber(b) + 1) * w.width + w.length
            break
          end
        end
        offset = offset + 100
      end
      if found ~= nil and found > now then slot = found end
    end
    local wait = slot - now
    -- Judged by the bucket's start: the rounding never pushes a slot the
    -- in-process limiter would wait for beyond the cap.
    if wait <= max_wait + w.width then
      if slot > at then at = slot end
    elseif wait > beyond_cap then
      beyond_cap = wait
    end
  end
end

if beyond_cap >= 0 then
  if within >= 0 and beyond_cap > within then return {0, beyond_cap} end
  at = hold
end
local wait = at - now
if within >= 0 and wait > within then return {0, wait} end

for _, w in ipairs(windows) do
  if w.limit > 0 then
    local b = str(math.floor(at / w.width))
    redis.call('ZADD', w.order, b, b)
    redis.call('HINCRBY', w.count, b, 1)
    redis.call('HINCRBY', w.count, 'total', 1)
    local ttl_ms = str(math.ceil((at - now + w.width + w.length) / 1000) + 1000)
    redis.call('PEXPIRE', w.order, ttl_ms)
    redis.call('PEXPIRE', w.count, ttl_ms)
  end
end
return {1, wait}
";

/// Extends the hold: no reservation before now + `ARGV[1]` µs. A hold only
/// ever extends.
///
/// `KEYS`: hold. Returns the hold's end (µs since the epoch, Redis time).
pub(crate) const HOLD: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local reset = tonumber(ARGV[1])
local hold = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local until_ = now + reset
if until_ > hold then
  redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', string.format('%.0f', math.ceil(reset / 1000) + 1000))
  hold = until_
end
return hold
";

/// The five keys of a scope, in the order [`RESERVE`] takes them.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    pub(crate) minute_order: String,
    pub(crate) minute_count: String,
    pub(crate) day_order: String,
    pub(crate) day_count: String,
    pub(crate) hold: String,
}

impl Keys {
    /// `scope` is already safe in a key (see `Scope`).
    pub(crate) fn new(prefix: &str, scope: &str) -> Keys {
        let base = format!("{prefix}:{{{scope}}}");
        Keys {
            minute_order: format!("{base}:minute:order"),
            minute_count: format!("{base}:minute:count"),
            day_order: format!("{base}:day:order"),
            day_count: format!("{base}:day:count"),
            hold: format!("{base}:hold"),
        }
    }

    pub(crate) fn all(&self) -> [&str; 5] {
        [
            &self.minute_order,
            &self.minute_count,
            &self.day_order,
            &self.day_count,
            &self.hold,
        ]
    }
}

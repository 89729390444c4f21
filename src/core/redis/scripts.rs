//! The Lua scripts the store runs on the server.

/// GCRA over one key. ARGV: window in microseconds, limit, cost, count-denied flag. A
/// positive cost consumes, 0 only reads, a negative cost gives units back. The value is
/// the theoretical arrival time (TAT) in server microseconds, optionally followed by
/// `|n`: denied hits counted for a Store (express-rate-limit gives every hit back on a
/// failed response, denied ones included; those must not return real units). The key
/// expires exactly when it stops mattering. Returns {allowed, remaining, retry-after
/// ms, reset ms, denied hits held}.
pub(super) const GCRA_LUA: &str = r#"
if redis.replicate_commands then redis.replicate_commands() end
local key = KEYS[1]
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = period / limit
local raw = redis.call('GET', key)
local tat, over = nil, 0
if raw then
  local a, b = string.match(raw, '^([^|]+)|?(%d*)$')
  tat = tonumber(a)
  over = tonumber(b) or 0
end
local stored = tat ~= nil
if tat == nil or tat < now then tat = now; over = 0 end
local function save()
  if tat <= now and over == 0 then
    redis.call('DEL', key)
    return
  end
  local v = string.format('%.17g', tat)
  if over > 0 then v = v .. '|' .. over end
  redis.call('SET', key, v, 'PX', math.max(1, math.ceil((tat - now) / 1000)))
end
local allowed = 1
local retry = 0
if cost > 0 then
  local allow_at = tat + cost * interval - period
  -- 1 microsecond of tolerance absorbs float rounding of interval * limit
  if allow_at <= now + 1 then
    tat = tat + cost * interval
    save()
  else
    allowed = 0
    retry = allow_at - now
    if ARGV[4] == '1' then over = over + cost; save() end
  end
elseif cost < 0 and stored then
  local give = -cost
  local from_over = math.min(over, give)
  over = over - from_over
  tat = math.max(now, tat - (give - from_over) * interval)
  save()
end
local remaining = math.floor((now + period - tat + 1) / interval)
if remaining < 0 then remaining = 0 elseif remaining > limit then remaining = limit end
return {allowed, remaining, math.ceil(retry / 1000), math.ceil((tat - now) / 1000), over}
"#;

/// Deletes a lock only if it still holds our token, so a lock that expired and was
/// taken by another process is never released by us.
pub(super) const UNLOCK_LUA: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

'use strict';

// The response headers of express-rate-limit v8: legacy X-RateLimit-*, and the IETF
// drafts 6, 7 and 8.

const { createHash } = require('node:crypto');

/** @param {number} windowMs @param {Date | undefined} resetTime */
function resetSeconds(windowMs, resetTime) {
  if (resetTime instanceof Date) return Math.max(0, Math.ceil((resetTime.getTime() - Date.now()) / 1000));
  return Math.ceil(windowMs / 1000);
}

/** @param {string} key */
function partitionKey(key) {
  return Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
}

/** @param {number} limit @param {number} windowMs */
function defaultIdentifier(limit, windowMs) {
  const s = windowMs / 1000;
  const m = s / 60;
  const h = m / 60;
  const d = h / 24;
  let duration;
  if (s < 60) duration = `${s}sec`;
  else if (m < 60) duration = `${m}min`;
  else if (h < 24) duration = `${h}hr${h > 1 ? 's' : ''}`;
  else duration = `${d}day${d > 1 ? 's' : ''}`;
  return `${limit}-in-${duration}`;
}


/**
 * Sets the headers express-rate-limit sets for the chosen draft.
 * @param {import('http').ServerResponse & { append: Function }} res
 * @param {{ limit: number, remaining: number, resetTime: Date | undefined }} info
 * @param {{ windowMs: number, legacyHeaders: boolean, standardHeaders: false | 'draft-6' | 'draft-7' | 'draft-8' }} cfg
 * @param {() => string} identifier the policy name (draft-8 only; evaluated only then)
 * @param {string} key
 */
function setHeaders(res, info, cfg, identifier, key) {
  if (res.headersSent) return;
  if (cfg.legacyHeaders) {
    res.setHeader('X-RateLimit-Limit', String(info.limit));
    res.setHeader('X-RateLimit-Remaining', String(info.remaining));
    if (info.resetTime instanceof Date) {
      res.setHeader('Date', new Date().toUTCString());
      res.setHeader('X-RateLimit-Reset', String(Math.ceil(info.resetTime.getTime() / 1000)));
    }
  }
  if (!cfg.standardHeaders) return;
  const w = Math.ceil(cfg.windowMs / 1000);
  const reset = resetSeconds(cfg.windowMs, info.resetTime);
  if (cfg.standardHeaders === 'draft-6') {
    res.setHeader('RateLimit-Policy', `${info.limit};w=${w}`);
    res.setHeader('RateLimit-Limit', String(info.limit));
    res.setHeader('RateLimit-Remaining', String(info.remaining));
    res.setHeader('RateLimit-Reset', String(reset));
  } else if (cfg.standardHeaders === 'draft-7') {
    res.setHeader('RateLimit-Policy', `${info.limit};w=${w}`);
    res.setHeader('RateLimit', `limit=${info.limit}, remaining=${info.remaining}, reset=${reset}`);
  } else {
    const name = identifier();
    res.append('RateLimit', `"${name}"; r=${info.remaining}; t=${reset}`);
    res.append('RateLimit-Policy', `"${name}"; q=${info.limit}; w=${w}; pk=:${partitionKey(key)}:`);
  }
}

module.exports = { setHeaders, resetSeconds, defaultIdentifier };

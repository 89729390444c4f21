'use strict';

// fetch(): loads through `fetchMethod`, one load per key at a time, with
// stale-while-revalidate, abort signals and lru-cache's fetch options.
//
// A load in flight is kept here, by key, not in the cache: the native side holds only
// values. So while a key loads, the cache keeps its previous (possibly stale) entry
// where lru-cache keeps a placeholder promise; the differences this makes are listed in
// docs/lru-cache.md. A `set`, `delete`, `clear` or `pop` of the key aborts its load (the
// loader's `signal` fires) and the load's result is not stored, unless the options say
// to ignore the abort.

/**
 * @typedef {object} Load
 * @property {Promise<any>} promise
 * @property {AbortController} ac
 * @property {unknown} stale the value at hand when the load started
 * @property {boolean} returned whether a caller was handed the promise (then a failure
 *   rejects it; otherwise the caller got the stale value and the failure is swallowed)
 */

class Loads {
  /** @type {import('./class').LruCache} */
  #cache;
  #o;
  #hooks;
  /** @type {Map<unknown, Load>} */
  #inflight = new Map();

  /**
   * @param {import('./class').LruCache} cache
   * @param {ReturnType<typeof import('./options').readOptions>} o
   * @param {{ set: (k: unknown, v: unknown, o: any) => unknown,
   *   get: (k: unknown, o: any) => unknown, hold: (k: unknown) => unknown,
   *   statusTTL: (status: any, k: unknown) => void }} hooks the cache's own `set` and
   *   `get` (which leave a fetch's status `op`, `key` and `value` alone), `hold` (stores
   *   the placeholder of a key's first load) and its status TTL writer
   */
  constructor(cache, o, hooks) {
    this.#cache = cache;
    this.#o = o;
    this.#hooks = hooks;
  }

  /**
   * @param {unknown} key
   * @param {any} fo fetch options
   * @returns {Promise<any>}
   */
  fetch(key, fo) {
    const o = this.#o;
    const cache = this.#cache;
    const allowStale = fo.allowStale ?? o.allowStale;
    const { status } = fo;
    if (status) {
      status.op = 'fetch';
      status.key = key;
      if (fo.forceRefresh) status.forceRefresh = true;
      if (fo.context) status.context = fo.context;
    }
    if (o.fetchMethod === undefined) {
      if (status) status.fetch = 'get';
      return Promise.resolve(this.#hooks.get(key, { allowStale, noDeleteOnStaleGet: fo.noDeleteOnStaleGet, status }));
    }
    const options = {
      allowStale,
      ttl: fo.ttl,
      size: fo.size,
      sizeCalculation: fo.sizeCalculation,
      noDisposeOnSet: fo.noDisposeOnSet,
      noDeleteOnFetchRejection: fo.noDeleteOnFetchRejection ?? o.noDeleteOnFetchRejection,
      allowStaleOnFetchRejection: fo.allowStaleOnFetchRejection ?? o.allowStaleOnFetchRejection,
      allowStaleOnFetchAbort: fo.allowStaleOnFetchAbort ?? o.allowStaleOnFetchAbort,
      ignoreFetchAbort: fo.ignoreFetchAbort ?? o.ignoreFetchAbort,
      signal: fo.signal,
      status,
    };
    const pending = this.#inflight.get(key);
    if (pending !== undefined) {
      const stale = allowStale && pending.stale !== undefined;
      if (status) {
        status.fetch = 'inflight';
        if (stale) status.returnedStale = true;
      }
      if (stale) return Promise.resolve(pending.stale);
      pending.returned = true;
      return pending.promise;
    }
    const present = cache.peek(key, { allowStale: true }) !== undefined;
    const fresh = present && cache.has(key);
    if (!fo.forceRefresh && fresh) {
      if (status) status.fetch = 'hit';
      const v = cache.get(key);
      if (status) this.#hooks.statusTTL(status, key);
      return Promise.resolve(v);
    }
    const stale = cache.peek(key, { allowStale: true });
    if (status) status.fetch = !present ? 'miss' : fresh ? 'refresh' : 'stale';
    const load = this.#start(key, stale, options, fo.context);
    if (allowStale && stale !== undefined) {
      if (status && present && !fresh) status.returnedStale = true;
      return Promise.resolve(stale);
    }
    load.returned = true;
    return load.promise;
  }

  /**
   * Starts one load of `key` and records it.
   * @param {unknown} key
   * @param {unknown} stale
   * @param {any} options
   * @param {unknown} context
   */
  #start(key, stale, options, context) {
    const cache = this.#cache;
    const fm = /** @type {Function} */ (this.#o.fetchMethod);
    const ac = new AbortController();
    const { signal } = options;
    // Stops listening to the caller's signal once this load is aborted.
    signal?.addEventListener('abort', () => ac.abort(signal.reason), { signal: ac.signal });
    const fetchOpts = { signal: ac.signal, options, context };
    /** @type {Load} */
    const load = { promise: Promise.resolve(), ac, stale, returned: false };
    const current = () => this.#inflight.get(key) === load;

    /** @param {unknown} er @param {boolean} proceed */
    const fail = (er, proceed) => {
      const allowStaleAborted = ac.signal.aborted && options.allowStaleOnFetchAbort;
      const allowStale = allowStaleAborted || options.allowStaleOnFetchRejection;
      const noDelete = allowStale || options.noDeleteOnFetchRejection;
      if (current()) {
        // An aborted load answering stale may still store its late result.
        if (!allowStaleAborted) this.#inflight.delete(key);
        if (!noDelete || (!proceed && load.stale === undefined)) {
          this.#inflight.delete(key);
          cache.delete(key);
        }
      }
      if (allowStale) {
        if (options.status && load.stale !== undefined) options.status.returnedStale = true;
        return load.stale;
      }
      if (load.returned) throw er;
      return undefined;
    };

    /** @param {unknown} v @param {boolean} [updateCache] a late result after an abort */
    const done = (v, updateCache = false) => {
      const { aborted } = ac.signal;
      const ignoreAbort = options.ignoreFetchAbort && v !== undefined;
      const proceed = options.ignoreFetchAbort || !!(options.allowStaleOnFetchAbort && v !== undefined);
      if (options.status) {
        if (aborted && !updateCache) {
          options.status.fetchAborted = true;
          options.status.fetchError = ac.signal.reason;
          if (ignoreAbort) options.status.fetchAbortIgnored = true;
        } else {
          options.status.fetchResolved = true;
        }
      }
      if (aborted && !ignoreAbort && !updateCache) return fail(ac.signal.reason, proceed);
      const mine = current();
      if (mine || (!this.#inflight.has(key) && ignoreAbort && updateCache)) {
        if (mine) this.#inflight.delete(key);
        if (v === undefined) {
          if (load.stale === undefined) cache.delete(key);
        } else {
          if (options.status) options.status.fetchUpdated = true;
          this.#hooks.set(key, v, fetchOpts.options);
          // The result takes the place of the load, as lru-cache's placeholder entry,
          // whose old value is the stale one the load started from.
          if (options.status) {
            options.status.set = 'replace';
            if (load.stale !== undefined) options.status.oldValue = load.stale;
          }
        }
      }
      return v;
    };

    load.promise = new Promise((res, rej) => {
      const fmp = fm(key, stale, fetchOpts);
      if (fmp && typeof fmp.then === 'function') fmp.then((/** @type {unknown} */ v) => res(v), rej);
      else res(fmp);
      // Checked when the abort comes, so the loader may still change the options.
      ac.signal.addEventListener('abort', () => {
        if (!options.ignoreFetchAbort || options.allowStaleOnFetchAbort) {
          res(undefined);
          if (options.allowStaleOnFetchAbort) res = (v) => done(v, true);
        }
      });
    }).then(done, (er) => {
      if (options.status) {
        options.status.fetchRejected = true;
        options.status.fetchError = er;
      }
      return fail(er, false);
    });
    if (options.status) options.status.fetchDispatched = true;
    // A key with no value at all holds a placeholder while it loads, as in lru-cache.
    if (stale === undefined && !this.#cache.has(key)) this.#hooks.hold(key);
    this.#inflight.set(key, load);
    return load;
  }

  /**
   * Aborts the load of `key`, if any; its result will not be stored.
   * @param {unknown} key
   * @param {string} why
   */
  abort(key, why) {
    const load = this.#inflight.get(key);
    if (load === undefined) return;
    this.#inflight.delete(key);
    load.ac.abort(new Error(why));
  }

  /** @param {string} why */
  abortAll(why) {
    for (const key of [...this.#inflight.keys()]) this.abort(key, why);
  }
}

module.exports = { Loads };

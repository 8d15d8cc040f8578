// @ts-check
// The client of the LambdAuth HTTP API that the sample pages share: calls and their error codes,
// and the session of a sign-in, kept in storage and refreshed before its access token expires.
//
// Everything it reaches outside itself (fetch, storage, the Web Locks of the browser, the clock
// and its timers) comes in through createClient, with the browser's as defaults, so that its
// logic runs in Node against fakes (www/test/).
//
// createClient composes the modules beside this one: api.js (the calls, their replies and the
// answers' typedefs), session.js (the session kept, refreshed and shared by the tabs), lock.js
// (the Web Lock they take turns under), devices.js (the device tokens) and browser.js (the
// browser's defaults). The pages import from this module only: its constants, functions and
// types below are the ones the others define.

import { createApi } from "./api.js";
import { browserStorage, browserTimers, configuredBaseUrl, trimBaseUrl } from "./browser.js";
import { createDeviceTokens, deviceKey } from "./devices.js";
import { createSessionKeeper } from "./session.js";

export { TIMEOUT_MS } from "./api.js";
export { DEVICES_KEY } from "./devices.js";
export { LockTimeoutError, withLock } from "./lock.js";
export { LOCK_WAIT_MS, REFRESH_AT, RETRY_MS, SESSION_KEY, SETTLE_MS } from "./session.js";

/** @typedef {import("./api.js").ApiError} ApiError */
/**
 * @template [T=unknown]
 * @typedef {import("./api.js").Reply<T>} Reply
 */
/** @typedef {import("./api.js").LoginAnswer} LoginAnswer */
/** @typedef {import("./api.js").RefreshAnswer} RefreshAnswer */
/** @typedef {import("./api.js").SessionEntry} SessionEntry */
/** @typedef {import("./api.js").SessionsAnswer} SessionsAnswer */
/** @typedef {import("./api.js").EndedAnswer} EndedAnswer */
/** @typedef {import("./api.js").LogoutAnswer} LogoutAnswer */
/** @typedef {import("./api.js").FetchResponse} FetchResponse */
/** @typedef {import("./api.js").Fetch} Fetch */
/** @typedef {import("./session.js").Session} Session */
/** @typedef {import("./session.js").Refreshed} Refreshed */
/**
 * @template T
 * @typedef {import("./session.js").Authorized<T>} Authorized
 */
/** @typedef {import("./browser.js").Store} Store */
/** @typedef {import("./browser.js").Locks} Locks */
/** @typedef {import("./browser.js").Timers} Timers */

/**
 * @typedef {object} ClientOptions Defaults are the browser's.
 * @property {string} [baseUrl] where the API answers; config.js's `apiBaseUrl`, empty for this
 *   page's origin
 * @property {Fetch} [fetch]
 * @property {Store} [storage] localStorage
 * @property {Locks | null} [locks] `navigator.locks`; null to run without Web Locks
 * @property {() => number} [now] the time in milliseconds since the epoch
 * @property {Timers} [timers]
 */

/**
 * A client of the API for one page: its calls, and the session it shares with the other tabs of
 * the browser through `storage` and `locks`.
 *
 * @param {ClientOptions} [options]
 */
export function createClient(options = {}) {
  const baseUrl =
    options.baseUrl === undefined ? configuredBaseUrl() : trimBaseUrl(options.baseUrl);
  /** @type {Fetch} */
  const fetchApi = options.fetch || ((url, init) => globalThis.fetch(url, init));
  const storage = options.storage || browserStorage;
  const locks =
    options.locks === undefined
      ? (globalThis.navigator && globalThis.navigator.locks) || null
      : options.locks;
  const now = options.now || Date.now;
  const timers = options.timers || browserTimers;

  const api = createApi({ baseUrl, fetch: fetchApi, now, timers });
  const sessions = createSessionKeeper({ storage, locks, now, timers, api });
  const devices = createDeviceTokens(storage);

  /**
   * A password change or reset ended every session and device token of `email`: forgets them.
   *
   * @param {string} email
   */
  function forgetAccount(email) {
    const session = sessions.readSession();
    if (session && deviceKey(session.email) === deviceKey(email)) {
      sessions.forgetEndedSession();
    }
    devices.storeDeviceToken(email, null);
  }

  return {
    baseUrl,
    request: api.request,
    post: api.post,
    authorized: sessions.authorized,
    readSession: sessions.readSession,
    sessionFrom: sessions.sessionFrom,
    startSession: sessions.startSession,
    refresh: sessions.refresh,
    keepSession: sessions.keepSession,
    storageChanged: sessions.storageChanged,
    onSession: sessions.onSession,
    logout: sessions.logout,
    stop: sessions.stop,
    deviceToken: devices.deviceToken,
    storeDeviceToken: devices.storeDeviceToken,
    forgetAccount,
  };
}

/** @typedef {ReturnType<typeof createClient>} Client */

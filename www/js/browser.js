// @ts-check
// What the client reaches outside itself, as far as it uses it: the storage, the Web Locks of the
// browser, the timers, and the API's address from config.js. createClient (client.js) takes
// each of them, with the browser's own below as defaults, so that its logic runs in Node against
// fakes (www/test/).

/**
 * @typedef {Pick<Storage, "getItem" | "setItem" | "removeItem">} Store Where the session and the
 *   device tokens are kept: localStorage in a browser.
 */

/**
 * @typedef {object} Locks The part of the Web Locks API (`navigator.locks`) used here.
 * @property {(name: string, options: LockOptions,
 *   callback: (lock: Lock | null) => Promise<any>) => Promise<any>} request
 */

/**
 * @typedef {object} Timers
 * @property {(callback: () => void, ms: number) => any} setTimeout
 * @property {(id: any) => void} clearTimeout
 */

/** @param {unknown} url */
export const trimBaseUrl = (url) =>
  String(url || "")
    .trim()
    .replace(/\/+$/, "");

/** The API's address from config.js (a classic script, run before any module). */
export function configuredBaseUrl() {
  /** @type {{ apiBaseUrl?: unknown } | null | undefined} */
  const config = Reflect.get(globalThis, "LAMBDAUTH_CONFIG");
  return trimBaseUrl(config?.apiBaseUrl);
}

// localStorage is looked up at each use: reading the property itself throws where storage is
// off, and every use below is ready for that.
/** @type {Store} */
export const browserStorage = {
  getItem: (key) => globalThis.localStorage.getItem(key),
  setItem: (key, value) => globalThis.localStorage.setItem(key, value),
  removeItem: (key) => globalThis.localStorage.removeItem(key),
};

// Called as methods of an options object, the browser's own functions would throw ("Illegal
// invocation"): they are wrapped.
/** @type {Timers} */
export const browserTimers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (id) => globalThis.clearTimeout(id),
};

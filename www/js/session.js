// @ts-check
// The session of a sign-in: kept in storage, refreshed before its access token expires, shared
// by the tabs of the browser, and presented with the calls that need it.
//
// A sign-in's tokens are kept in localStorage, so that the session outlives the tab: staying
// signed in without the password is what the refresh token is for. Any script of this origin
// can read localStorage; that is acceptable for these pages, which load no script but their
// own and forbid inline ones (see their Content-Security-Policy). An application that loads
// third-party code would rather keep the refresh token in an HttpOnly cookie of its own
// backend. The tabs of one browser share the session, and refresh it one at a time (a Web
// Lock), so a rotated refresh token is never presented twice.

import { TIMEOUT_MS, unanswered } from "./api.js";
import { LockTimeoutError, withLock } from "./lock.js";

/** @import { Api, LoginAnswer, LogoutAnswer, RefreshAnswer, Reply } from "./api.js" */
/** @import { Locks, Store, Timers } from "./browser.js" */

/**
 * @typedef {object} Session The session of a sign-in, as kept in storage (never the password).
 *   Every lifetime of the answer became a time (ISO 8601), so that any tab can tell what is due.
 * @property {string} email the address as typed at the login
 * @property {string} identityId
 * @property {string} token the Cognito OpenID token
 * @property {string} expiresAt when `token` expires
 * @property {string} sessionId
 * @property {string} accessToken
 * @property {string} accessTokenExpiresAt
 * @property {string} refreshAt when the access token is to be refreshed
 * @property {string} [refreshToken] absent from sessions kept before refresh tokens existed
 * @property {string} refreshTokenExpiresAt
 */

/**
 * @typedef {object} Refreshed What a refresh came to.
 * @property {Session | null} session the session now kept, null when it has ended (and is
 *   forgotten)
 * @property {Reply} [failure] the reply when the service could not answer; the tokens stay,
 *   for a later try
 */

/**
 * @template T
 * @typedef {{ reply: Reply<T>, ended?: undefined } | { ended: true, reply?: undefined }} Authorized
 *   What a call with the session's access token came to: its reply, or `ended` when there is
 *   no session (any more).
 */

/**
 * @typedef {object} SessionOptions
 * @property {Store} storage
 * @property {Locks | null} locks
 * @property {() => number} now the time in milliseconds since the epoch
 * @property {Timers} timers
 * @property {Api} api the calls that log out and refresh, and that `authorized` makes
 */

/** Where the session of a sign-in is kept, and the name of the lock held while changing it. */
export const SESSION_KEY = "lambdauth.session";
/** The access token is refreshed when this share of its lifetime has passed. */
export const REFRESH_AT = 0.8;
/** After a refresh the service could not answer, the next try waits this long. */
export const RETRY_MS = 10000;
/**
 * The longest wait for the session lock. Another tab holds it for one call at most (TIMEOUT_MS),
 * and one more may be waiting ahead; a lock held far longer than that is stuck (some browsers
 * have kept a lock after its holder was gone), and waiting on would hang the page for good.
 */
export const LOCK_WAIT_MS = 2 * TIMEOUT_MS;
/**
 * How long a tab that waited for the session lock gives the holder's write to reach it. Chrome
 * keeps a copy of localStorage in each tab and brings another tab's writes to it a moment later,
 * independently of the lock: the lock can be granted before the session the other tab just
 * stored arrives, and reading at once would find the refresh token it has spent.
 */
export const SETTLE_MS = 250;
// A refresh is planned this far ahead at the soonest: an answer that gave the access token no
// lifetime would otherwise have the tab refresh in a tight loop.
const MIN_REFRESH_WAIT_MS = 1000;

/**
 * The session one client keeps, in `storage` that it shares with the other tabs of the browser
 * and under their common lock.
 *
 * @param {SessionOptions} options
 */
export function createSessionKeeper({ storage, locks, now, timers, api }) {
  const { request, post } = api;

  // ---- The session kept after a login ---------------------------------------------------------

  /** @returns {Session | null} */
  function readSession() {
    try {
      const session = JSON.parse(storage.getItem(SESSION_KEY) ?? "null");
      if (!session || typeof session.email !== "string") return null;
      if (session.refreshToken && !(Date.parse(session.refreshTokenExpiresAt) > now())) {
        storage.removeItem(SESSION_KEY); // the session's own lifetime is over
        return null;
      }
      return session;
    } catch {
      return null;
    }
  }

  /** @param {Session} session */
  function saveSession(session) {
    try {
      storage.setItem(SESSION_KEY, JSON.stringify(session));
    } catch {
      // Storage can be off (private modes); the page still shows the identity.
    }
  }

  function forgetSession() {
    try {
      storage.removeItem(SESSION_KEY);
    } catch {
      // Nothing was stored.
    }
  }

  /**
   * The session of a login or refresh answer.
   *
   * @param {string} email
   * @param {LoginAnswer | RefreshAnswer} data
   * @returns {Session}
   */
  function sessionFrom(email, data) {
    const start = now();
    /** @param {unknown} seconds */
    const at = (seconds) => {
      const lifetime = Number(seconds);
      return new Date(start + (Number.isFinite(lifetime) ? lifetime * 1000 : 0)).toISOString();
    };
    return {
      email,
      identityId: data.identityId,
      token: data.token,
      expiresAt: at(data.expiresIn),
      sessionId: data.sessionId,
      accessToken: data.accessToken,
      accessTokenExpiresAt: at(data.accessTokenExpiresIn),
      refreshAt: at(REFRESH_AT * Number(data.accessTokenExpiresIn)),
      refreshToken: data.refreshToken,
      refreshTokenExpiresAt: at(data.refreshTokenExpiresIn),
    };
  }

  /** @param {Session} session */
  const refreshDue = (session) => !(Date.parse(session.refreshAt) > now());

  // ---- Keeping the session alive -----------------------------------------------------------

  /** @type {Array<(session: Session | null) => void>} */
  const watchers = []; // the page's renderers, told of every new or ended session
  /** @type {Promise<Refreshed> | null} */
  let refreshing = null; // this tab's refresh in flight: callers share it
  /** @type {any} */
  let refreshTimer;
  let storageChanges = 0; // the other tabs' changes of the session that reached this tab
  /** @type {Array<() => void>} */
  let awaitingChange = [];

  /** @param {Session | null} session */
  function announce(session) {
    for (const watcher of watchers) watcher(session);
  }

  /**
   * Calls `watcher` with every new session of this browser, and with null when it ends.
   *
   * @param {(session: Session | null) => void} watcher
   */
  function onSession(watcher) {
    watchers.push(watcher);
  }

  /**
   * Waits until a change of the session by another tab has reached this tab since `seen` (a
   * count of storageChanges), or SETTLE_MS.
   *
   * @param {number} seen
   * @returns {Promise<void>}
   */
  function storageSettled(seen) {
    if (storageChanges !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        timers.clearTimeout(timer);
        awaitingChange = awaitingChange.filter((waiting) => waiting !== done);
        resolve();
      };
      const timer = timers.setTimeout(done, SETTLE_MS);
      awaitingChange.push(done);
    });
  }

  /**
   * Runs `task` while no other tab of this browser changes the session; after another tab held
   * the lock, once what it stored has reached this tab (see SETTLE_MS).
   *
   * @template T
   * @param {() => Promise<T>} task
   */
  function withSessionLock(task) {
    const seen = storageChanges;
    return withLock(locks, SESSION_KEY, LOCK_WAIT_MS, timers, async (waited) => {
      if (waited) await storageSettled(seen);
      return task();
    });
  }

  /**
   * Trades the refresh token for new tokens; the old refresh token is spent. `stale` is the
   * refresh token the caller found wanting: when another tab has rotated it meanwhile, its
   * tokens are used as they are: the stored session is read again once the lock is held, since
   * what was read before it may be spent by now. Never rejects.
   *
   * @param {string} stale
   * @returns {Promise<Refreshed>}
   */
  function refresh(stale) {
    if (refreshing) return refreshing;
    refreshing = withSessionLock(async () => {
      const stored = readSession();
      if (!stored || !stored.refreshToken) return { session: null };
      if (stored.refreshToken !== stale && !refreshDue(stored)) return { session: stored };
      /** @type {Reply<RefreshAnswer>} */
      const reply = await post("/token/refresh", { refreshToken: stored.refreshToken });
      if (reply.ok && reply.data && reply.data.refreshed === true) {
        const session = sessionFrom(stored.email, reply.data);
        saveSession(session);
        return { session };
      }
      if (reply.status === 401) {
        forgetSession(); // ended elsewhere, expired, or revoked: nothing left to refresh
        return { session: null };
      }
      return { session: stored, failure: reply };
    })
      .catch((error) => {
        if (!(error instanceof LockTimeoutError)) throw error;
        /** @type {Refreshed} */
        const stuck = { session: readSession(), failure: unanswered(true) };
        return stuck;
      })
      .finally(() => {
        refreshing = null;
      });
    refreshing.then((result) => {
      keepSession(result.failure ? RETRY_MS : 0);
      if (!result.failure) announce(result.session);
    });
    return refreshing;
  }

  /**
   * Plans the refresh of the stored session for when its access token has lived REFRESH_AT of
   * its lifetime (after `retryIn` milliseconds at the earliest, and never within a second).
   *
   * @param {number} [retryIn]
   */
  function keepSession(retryIn = 0) {
    timers.clearTimeout(refreshTimer);
    const session = readSession();
    if (!session || !session.refreshToken) return;
    const stale = session.refreshToken;
    const wait = Math.max(retryIn, Date.parse(session.refreshAt) - now(), MIN_REFRESH_WAIT_MS);
    refreshTimer = timers.setTimeout(() => refresh(stale), wait);
  }

  /** Stops planning refreshes (until the next keepSession). */
  function stop() {
    timers.clearTimeout(refreshTimer);
  }

  /**
   * Storage changed under `key` in another tab (null: all of it was cleared): that tab signed
   * in, refreshed, or logged out. The page calls it with each `storage` event.
   *
   * @param {string | null} key
   */
  function storageChanged(key) {
    if (key !== SESSION_KEY && key !== null) return;
    storageChanges += 1;
    for (const done of awaitingChange) done();
    keepSession();
    announce(readSession());
  }

  /**
   * Calls the API with the session's access token: refreshed first when it is due, and once
   * more when the call is refused with 401 (the token expired on the way, say). Only once: a
   * second 401 is the answer.
   *
   * @template [T=unknown]
   * @param {string} method
   * @param {string} path
   * @returns {Promise<Authorized<T>>}
   */
  async function authorized(method, path) {
    let session = readSession();
    if (session && session.refreshToken && refreshDue(session)) {
      session = (await refresh(session.refreshToken)).session;
    }
    if (!session || !session.accessToken) return { ended: true };
    /** @type {Reply<T>} */
    const reply = await request(method, path, { accessToken: session.accessToken });
    if (reply.status !== 401 || !session.refreshToken) return { reply };
    const renewed = await refresh(session.refreshToken);
    if (!renewed.session) return { ended: true };
    if (renewed.failure) return { reply: /** @type {Reply<any>} */ (renewed.failure) };
    return { reply: await request(method, path, { accessToken: renewed.session.accessToken }) };
  }

  /**
   * Ends this session, or with `everywhere` every session of the account, and forgets it here.
   * Answers the reply when the service did not confirm (the session is kept then), else null.
   *
   * @param {boolean} everywhere
   * @returns {Promise<Reply | null>}
   */
  async function logout(everywhere) {
    /** @type {{ reply?: Reply }} */
    const result = await withSessionLock(async () => {
      const session = readSession();
      if (session && session.refreshToken) {
        /** @type {{ refreshToken: string, everywhere?: true }} */
        const body = { refreshToken: session.refreshToken };
        if (everywhere) body.everywhere = true;
        /** @type {Reply<LogoutAnswer>} */
        const reply = await post("/logout", body);
        if (!(reply.ok && reply.data && reply.data.loggedOut === true)) return { reply };
      }
      forgetSession();
      return {};
    }).catch((error) => {
      if (!(error instanceof LockTimeoutError)) throw error;
      return { reply: unanswered(true) };
    });
    if (!result.reply) {
      timers.clearTimeout(refreshTimer);
      announce(null);
    }
    return result.reply || null;
  }

  /**
   * Keeps a new login's session; a session this browser held before is ended, since nothing
   * could use it any more.
   *
   * @param {Session} session
   * @returns {Promise<void>}
   */
  function startSession(session) {
    return withSessionLock(async () => {
      const previous = readSession();
      saveSession(session);
      if (previous && previous.refreshToken && previous.refreshToken !== session.refreshToken) {
        await post("/logout", { refreshToken: previous.refreshToken });
      }
    })
      .catch((error) => {
        if (!(error instanceof LockTimeoutError)) throw error;
        // A stuck lock must not cost the sign-in; the previous session is left to expire.
        saveSession(session);
      })
      .then(() => keepSession());
  }

  /**
   * The session kept has ended with the account's password (changed or reset): forgets it, and
   * tells the watchers.
   */
  function forgetEndedSession() {
    forgetSession();
    announce(null);
  }

  return {
    authorized,
    readSession,
    sessionFrom,
    startSession,
    refresh,
    keepSession,
    storageChanged,
    onSession,
    logout,
    stop,
    forgetEndedSession,
  };
}

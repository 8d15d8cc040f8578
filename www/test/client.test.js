// @ts-check
// The client module (js/client.js) against fakes of what a browser gives it: an API behind
// `fetch`, a storage and a lock manager that several "tabs" share, and a clock whose time moves
// only when a test moves it. Run with `node --test` in www/.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  DEVICES_KEY,
  LOCK_WAIT_MS,
  LockTimeoutError,
  RETRY_MS,
  SESSION_KEY,
  TIMEOUT_MS,
  createClient,
  withLock,
} from "../js/client.js";
import { describeFailure } from "../js/messages.js";

/** @import { Client, Fetch, Locks, LoginAnswer, Reply, Session, Store, Timers } from "../js/client.js" */

const BASE = "https://api.example.com";
const START = Date.parse("2030-01-01T00:00:00Z");
const EMAIL = "walker@example.com";

// ---- Fakes ---------------------------------------------------------------------------------

/** Lets every promise chain that can move on do so (the fakes answer through promises only). */
async function settle() {
  for (let turn = 0; turn < 10; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** A clock and timers that move only through `advance`. */
function fakeClock() {
  let time = START;
  let lastId = 0;
  /** @type {Map<number, { at: number, callback: () => void }>} */
  const pending = new Map();
  /** @type {Timers} */
  const timers = {
    setTimeout: (callback, ms) => {
      lastId += 1;
      pending.set(lastId, { at: time + Math.max(0, ms), callback });
      return lastId;
    },
    clearTimeout: (id) => {
      pending.delete(id);
    },
  };
  return {
    now: () => time,
    timers,
    /** @param {number} ms */
    sleep: (ms) => new Promise((resolve) => timers.setTimeout(() => resolve(undefined), ms)),
    /**
     * Moves time on by `ms`, firing the timers due on the way in their order, each once the
     * promises before it have settled.
     *
     * @param {number} ms
     */
    async advance(ms) {
      const end = time + ms;
      await settle();
      for (;;) {
        const [next] = [...pending]
          .filter(([, timer]) => timer.at <= end)
          .sort(([a, one], [b, other]) => one.at - other.at || a - b);
        if (!next) break;
        pending.delete(next[0]);
        time = next[1].at;
        next[1].callback();
        await settle();
      }
      time = end;
    },
    /** Milliseconds from now to each pending timer, soonest first. */
    waits: () => [...pending.values()].map((timer) => timer.at - time).sort((a, b) => a - b),
  };
}

/** @typedef {ReturnType<typeof fakeClock>} Clock */

/** localStorage as one copy that every tab reads and writes at once. */
function fakeStorage() {
  /** @type {Map<string, string>} */
  const items = new Map();
  return {
    items,
    /** @param {string} key */
    getItem: (key) => items.get(key) ?? null,
    /** @param {string} key @param {string} value */
    setItem: (key, value) => {
      items.set(key, String(value));
    },
    /** @param {string} key */
    removeItem: (key) => {
      items.delete(key);
    },
  };
}

/**
 * localStorage as Chrome gives it to tabs: each tab reads and writes its own copy, and a write
 * reaches the other tabs' copies `delay` ms later, each with a storage event, whatever the locks
 * do meanwhile.
 *
 * @param {Clock} clock
 * @param {number} delay
 */
function tabCopies(clock, delay) {
  /** @type {Array<{ items: Map<string, string>, changed: (key: string) => void }>} */
  const copies = [];
  return {
    /**
     * The copy of a tab opened now, whose storage events go to `changed`.
     *
     * @param {(key: string) => void} changed
     */
    open(changed) {
      const mine = { items: new Map(copies[0]?.items), changed };
      copies.push(mine);
      /** @param {string} key @param {string | null} value */
      const spread = (key, value) => {
        for (const other of copies.filter((copy) => copy !== mine)) {
          clock.timers.setTimeout(() => {
            if (value === null) other.items.delete(key);
            else other.items.set(key, value);
            other.changed(key);
          }, delay);
        }
      };
      return {
        /** @param {string} key */
        getItem: (key) => mine.items.get(key) ?? null,
        /** @param {string} key @param {string} value */
        setItem: (key, value) => {
          mine.items.set(key, String(value));
          spread(key, String(value));
        },
        /** @param {string} key */
        removeItem: (key) => {
          mine.items.delete(key);
          spread(key, null);
        },
      };
    },
  };
}

/**
 * `navigator.locks`, as one browser's tabs share it: exclusive locks, granted in the order they
 * were asked for; `ifAvailable` answers null at once when the lock is taken; a request whose
 * signal aborts before the grant rejects with AbortError.
 */
function fakeLocks() {
  /** @type {Map<string, { held: boolean, queue: Array<() => void> }>} */
  const names = new Map();
  let grants = 0;
  return {
    /** How many times a lock was granted. */
    grants: () => grants,
    /** @type {Locks["request"]} */
    request(name, options, callback) {
      const lock = names.get(name) ?? { held: false, queue: [] };
      names.set(name, lock);
      return new Promise((resolve, reject) => {
        const grant = () => {
          grants += 1;
          Promise.resolve()
            .then(() => callback(/** @type {Lock} */ ({ name, mode: "exclusive" })))
            .then(resolve, reject)
            .finally(() => {
              const next = lock.queue.shift();
              if (next) next();
              else lock.held = false;
            });
        };
        if (!lock.held) {
          lock.held = true;
          grant();
        } else if (options.ifAvailable) {
          Promise.resolve()
            .then(() => callback(null))
            .then(resolve, reject);
        } else {
          const signal = options.signal;
          const waiter = () => {
            signal?.removeEventListener("abort", abandon);
            grant();
          };
          const abandon = () => {
            lock.queue.splice(lock.queue.indexOf(waiter), 1);
            reject(new DOMException("The lock request was aborted.", "AbortError"));
          };
          signal?.addEventListener("abort", abandon);
          lock.queue.push(waiter);
        }
      });
    },
  };
}

/**
 * A response as `fetch` answers it.
 *
 * @param {number} status
 * @param {unknown} [body] JSON; none when undefined
 * @param {Record<string, string>} [headers]
 */
function answer(status, body, headers = {}) {
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: new Headers(headers),
    json: async () => {
      if (body === undefined) throw new SyntaxError("Unexpected end of JSON input");
      return body;
    },
  };
}

/**
 * @typedef {object} Call One request the fake API received.
 * @property {string} route e.g. "POST /token/refresh"
 * @property {any} body
 * @property {string | null} bearer
 * @property {number} at the fake clock's time
 * @property {RequestInit} init
 */

/** @typedef {(call: Call) => ReturnType<typeof answer> | Promise<ReturnType<typeof answer>>} Route */

/**
 * The API, one account with one session: a login or refresh issues the next generation of
 * tokens, and only the newest refresh and access tokens work. `routes` can be replaced.
 *
 * @param {Clock} clock
 * @param {{ accessTtl?: number }} [settings] the access token's lifetime in seconds
 */
function fakeApi(clock, { accessTtl = 900 } = {}) {
  /** @type {Call[]} */
  const calls = [];
  let generation = 0;
  /** @type {string | null} */
  let refreshToken = null;
  /** @type {string | null} */
  let accessToken = null;
  const issue = () => {
    generation += 1;
    refreshToken = `refresh-${generation}`;
    accessToken = `access-${generation}`;
    return {
      identityId: "eu-west-1:identity",
      token: `cognito-${generation}`,
      expiresIn: 3600,
      sessionId: "session-1",
      accessToken,
      accessTokenExpiresIn: accessTtl,
      refreshToken,
      refreshTokenExpiresIn: 30 * 24 * 3600,
    };
  };
  /** @type {Map<string, Route>} */
  const routes = new Map();
  routes.set("POST /login", () =>
    answer(200, { login: true, ...issue(), deviceToken: "device-1" })
  );
  routes.set("POST /token/refresh", ({ body }) =>
    body.refreshToken === refreshToken
      ? answer(200, { refreshed: true, ...issue() })
      : answer(401, {
          refreshed: false,
          error: { code: "InvalidRefreshToken", message: "The refresh token is not valid." },
        })
  );
  routes.set("GET /sessions", ({ bearer }) =>
    bearer === accessToken
      ? answer(200, { sessions: [] })
      : answer(401, { message: "Unauthorized" })
  );
  routes.set("POST /logout", ({ body }) => {
    if (body.refreshToken === refreshToken) refreshToken = null;
    return answer(200, { loggedOut: true });
  });
  /** @type {Fetch} */
  const fetch = async (url, init) => {
    assert.ok(url.startsWith(BASE), url);
    const headers = /** @type {Record<string, string>} */ (init.headers);
    const route = `${init.method} ${url.slice(BASE.length)}`;
    /** @type {Call} */
    const call = {
      route,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      bearer: headers.Authorization ? headers.Authorization.replace(/^Bearer /, "") : null,
      at: clock.now(),
      init,
    };
    calls.push(call);
    // A client calling in a loop would never yield to the test's timeout: it is stopped here
    // (as a network failure), and the test's count of calls fails.
    if (calls.length > 100) throw new TypeError("the fake API stops answering a loop");
    const handler = routes.get(route);
    assert.ok(handler, `no route ${route}`);
    return handler(call);
  };
  return {
    fetch,
    calls,
    routes,
    /** The routes called, in order. */
    called: () => calls.map((call) => call.route),
    /** The calls to `route`. */
    callsOf: (/** @type {string} */ route) => calls.filter((call) => call.route === route),
  };
}

/** @typedef {ReturnType<typeof fakeApi>} Api */

/**
 * One browser: its storage, lock manager, clock and API, and a tab to open in it. With
 * `propagation`, each tab has its own copy of the storage (see tabCopies); without, one copy.
 *
 * @param {{ accessTtl?: number, locks?: boolean, propagation?: number }} [settings]
 */
function browser({ accessTtl = 900, locks = true, propagation } = {}) {
  const clock = fakeClock();
  const storage = fakeStorage();
  const copies = tabCopies(clock, propagation ?? 0);
  const lockManager = fakeLocks();
  const api = fakeApi(clock, { accessTtl });
  /** A tab of this browser, as a page opens it: its client, which keeps the session. */
  const tab = () => {
    /** @type {Client | undefined} */
    let client = undefined;
    const tabStorage =
      propagation === undefined ? storage : copies.open((key) => client?.storageChanged(key)); // the page's storage listener
    client = createClient({
      baseUrl: `${BASE}/`,
      fetch: api.fetch,
      storage: tabStorage,
      locks: locks ? lockManager : null,
      now: clock.now,
      timers: clock.timers,
    });
    /** @type {Array<Session | null>} */
    const told = [];
    client.onSession((session) => told.push(session));
    client.keepSession();
    return { client, told, storage: tabStorage };
  };
  return { clock, storage, locks: lockManager, api, tab };
}

/**
 * Signs in on `client` as the login page does.
 *
 * @param {Client} client
 */
async function signIn(client) {
  /** @type {Reply<LoginAnswer>} */
  const reply = await client.post("/login", {
    email: EMAIL,
    password: "correct horse battery staple",
  });
  assert.ok(reply.data, "a login answer");
  await client.startSession(client.sessionFrom(EMAIL, reply.data));
  return reply.data;
}

/** @param {Store} storage */
const stored = (storage) => JSON.parse(storage.getItem(SESSION_KEY) ?? "null");

// ---- Calls and their errors ------------------------------------------------------------------

describe("calls", () => {
  test("send JSON with the bearer token, no cookie and no referrer, to config's base URL", async () => {
    const { api, tab } = browser();
    const { client } = tab();
    api.routes.set("GET /sessions", () => answer(200, { sessions: [] }));
    await client.request("GET", "/sessions", { accessToken: "access-x" });
    await client.post("/users", { email: EMAIL });
    const [get, post] = api.calls;
    assert.deepEqual(get.init.headers, {
      Accept: "application/json",
      Authorization: "Bearer access-x",
    });
    assert.equal(get.init.body, undefined);
    assert.deepEqual(post.init.headers, {
      Accept: "application/json",
      "Content-Type": "application/json",
    });
    assert.deepEqual(post.body, { email: EMAIL });
    for (const call of api.calls) {
      assert.equal(call.init.credentials, "omit");
      assert.equal(call.init.referrerPolicy, "no-referrer");
    }
    assert.equal(client.baseUrl, BASE, "the trailing slash is dropped");
  });

  test("an error answer surfaces its code and message, in the page's words", async () => {
    const { api, tab } = browser();
    const { client } = tab();
    api.routes.set("POST /users", () =>
      answer(400, {
        created: false,
        error: { code: "PasswordTooShort", message: "The password needs at least 15 characters" },
      })
    );
    const reply = await client.post("/users", { email: EMAIL, password: "too short" });
    assert.equal(reply.status, 400);
    assert.equal(reply.ok, false);
    assert.deepEqual(reply.error, {
      code: "PasswordTooShort",
      message: "The password needs at least 15 characters",
    });
    assert.deepEqual(describeFailure(reply, "No account was created"), {
      code: "PasswordTooShort",
      text: "No account was created: The password needs at least 15 characters.",
    });
  });

  test("a hint for the error code follows the service's words", async () => {
    const { api, tab } = browser();
    const { client } = tab();
    api.routes.set("POST /login", () =>
      answer(403, {
        login: false,
        verified: false,
        error: { code: "UserNotVerified", message: "Not verified." },
      })
    );
    const reply = await client.post("/login", {});
    const hints = { UserNotVerified: "Open the link in the verification mail first." };
    assert.equal(
      describeFailure(reply, "You are not signed in", hints).text,
      "You are not signed in: Not verified. Open the link in the verification mail first."
    );
  });

  test("an answer without a JSON error still fails, with its status in the words", async () => {
    const { api, tab } = browser();
    const { client } = tab();
    api.routes.set("GET /sessions", () => answer(401, { message: "Unauthorized" }));
    const reply = await client.request("GET", "/sessions");
    assert.equal(reply.error, null);
    assert.equal(
      describeFailure(reply, "The sessions could not be listed").text,
      "The sessions could not be listed: the service answered with HTTP 401."
    );
    api.routes.set("GET /sessions", () => answer(502));
    const bare = await client.request("GET", "/sessions");
    assert.equal(bare.data, null);
    assert.match(describeFailure(bare, "x").text, /\(HTTP 502\)/);
  });

  test("a network failure is status 0, not a throw", async () => {
    const { api, tab } = browser();
    const { client } = tab();
    api.routes.set("POST /password/lost", () => {
      throw new TypeError("fetch failed");
    });
    const reply = await client.post("/password/lost", { email: EMAIL });
    assert.deepEqual(
      { status: reply.status, ok: reply.ok, timedOut: reply.timedOut, error: reply.error },
      { status: 0, ok: false, timedOut: false, error: null }
    );
    assert.equal(
      describeFailure(reply, "No reset link was sent").text,
      "The service could not be reached. Check your connection and try again."
    );
  });

  test("a call unanswered for 30 seconds is abandoned as timed out", async () => {
    const { api, clock, tab } = browser();
    const { client } = tab();
    api.routes.set("POST /login", ({ init }) => {
      // An answer that never comes, but the abort of the request is heard.
      return new Promise((_, reject) => {
        init.signal?.addEventListener("abort", () =>
          reject(new DOMException("aborted", "AbortError"))
        );
      });
    });
    /** @type {Reply | null} */
    let answered = null;
    client.post("/login", {}).then((reply) => {
      answered = reply;
    });
    const outcome = () => answered;
    await clock.advance(TIMEOUT_MS - 1);
    assert.equal(outcome(), null, "still waiting");
    await clock.advance(1);
    const reply = outcome();
    assert.ok(reply);
    assert.equal(reply.status, 0);
    assert.equal(reply.timedOut, true);
    assert.equal(
      describeFailure(reply, "x").text,
      "The service did not answer in time. Please try again."
    );
  });

  test("a 429 tells how long to wait: Retry-After in seconds or as a date, else the body", async () => {
    const { api, clock, tab } = browser();
    const { client } = tab();
    /** @type {ReturnType<typeof answer>} */
    let next = answer(200, {});
    api.routes.set("POST /login", () => next);
    const tooMany = {
      login: false,
      error: { code: "TooManyRequests", message: "Too many.", retryAfter: 9 },
    };

    next = answer(429, tooMany, { "Retry-After": "7" });
    const seconds = await client.post("/login", {});
    assert.equal(seconds.retryAfter, 7);
    assert.deepEqual(describeFailure(seconds, "You are not signed in"), {
      code: "TooManyRequests",
      text: "Too many requests for this address. Please wait 7 seconds, then try again.",
    });

    const date = new Date(clock.now() + 2500).toUTCString(); // whole seconds: 2 s from now
    next = answer(429, tooMany, { "Retry-After": date });
    assert.equal((await client.post("/login", {})).retryAfter, 2);

    // Another origin's page cannot read the header unless the API exposes it.
    next = answer(429, tooMany);
    const body = await client.post("/login", {});
    assert.equal(body.retryAfter, 9);

    next = answer(
      429,
      { error: { code: "TooManyRequests", message: "Too many." } },
      { "Retry-After": "1" }
    );
    assert.match(describeFailure(await client.post("/login", {}), "x").text, /wait 1 second,/);

    next = answer(429, { error: { code: "TooManyRequests", message: "Too many." } });
    const unsaid = await client.post("/login", {});
    assert.equal(unsaid.retryAfter, null);
    assert.match(describeFailure(unsaid, "x").text, /Please wait a little/);
  });

  test("a server error's words quote its request id", async () => {
    const { api, tab } = browser();
    const { client } = tab();
    api.routes.set("POST /users", () =>
      answer(500, {
        error: { code: "InternalError", message: "Internal error.", requestId: "req-42" },
      })
    );
    const failure = describeFailure(await client.post("/users", {}), "No account was created");
    assert.equal(failure.code, "InternalError");
    assert.match(failure.text, /quote the request id req-42\.$/);
  });
});

// ---- The session in storage --------------------------------------------------------------

describe("the session in storage", () => {
  test("is kept under the keys the pages always used, with every lifetime as a time", async () => {
    const { storage, tab } = browser();
    const { client } = tab();
    await signIn(client);
    assert.deepEqual([...storage.items.keys()], [SESSION_KEY]);
    assert.equal(SESSION_KEY, "lambdauth.session");
    assert.deepEqual(stored(storage), {
      email: EMAIL,
      identityId: "eu-west-1:identity",
      token: "cognito-1",
      expiresAt: new Date(START + 3600_000).toISOString(),
      sessionId: "session-1",
      accessToken: "access-1",
      accessTokenExpiresAt: new Date(START + 900_000).toISOString(),
      refreshAt: new Date(START + 720_000).toISOString(),
      refreshToken: "refresh-1",
      refreshTokenExpiresAt: new Date(START + 30 * 24 * 3600_000).toISOString(),
    });
    assert.equal(client.readSession()?.accessToken, "access-1");
  });

  test("device tokens are kept per address, lower-cased, and outlive a logout", async () => {
    const { storage, tab } = browser();
    const { client } = tab();
    client.storeDeviceToken(" Walker@Example.COM", "device-1");
    assert.equal(DEVICES_KEY, "lambdauth.devices");
    assert.deepEqual(JSON.parse(storage.getItem(DEVICES_KEY) ?? ""), { [EMAIL]: "device-1" });
    assert.equal(client.deviceToken("WALKER@example.com "), "device-1");
    assert.equal(client.deviceToken("other@example.com"), null);
    await signIn(client);
    assert.equal(await client.logout(false), null);
    assert.equal(storage.getItem(SESSION_KEY), null);
    assert.equal(client.deviceToken(EMAIL), "device-1");
  });

  test("a password change forgets the address's session and device token, and says so", async () => {
    const { storage, tab } = browser();
    const { client, told } = tab();
    client.storeDeviceToken(EMAIL, "device-1");
    client.storeDeviceToken("other@example.com", "device-2");
    await signIn(client);
    client.forgetAccount("Walker@Example.com");
    assert.equal(storage.getItem(SESSION_KEY), null);
    assert.deepEqual(JSON.parse(storage.getItem(DEVICES_KEY) ?? ""), {
      "other@example.com": "device-2",
    });
    assert.deepEqual(told, [null]);
  });

  test("a session past its refresh token's lifetime is forgotten when read", async () => {
    const { clock, storage, tab } = browser();
    const { client } = tab();
    await signIn(client);
    client.stop();
    await clock.advance(30 * 24 * 3600_000);
    assert.equal(client.readSession(), null);
    assert.equal(storage.getItem(SESSION_KEY), null);
  });

  test("storage that is off or holds garbage reads as no session and no device", () => {
    const broken = {
      getItem: () => {
        throw new DOMException("The operation is insecure.", "SecurityError");
      },
      setItem: () => {
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      },
      removeItem: () => {},
    };
    const client = createClient({
      baseUrl: BASE,
      storage: broken,
      locks: null,
      fetch: async () => answer(200, {}),
    });
    assert.equal(client.readSession(), null);
    assert.equal(client.deviceToken(EMAIL), null);
    client.storeDeviceToken(EMAIL, "device-1"); // does not throw
    const { storage, tab } = browser();
    storage.setItem(SESSION_KEY, "{not json");
    storage.setItem(DEVICES_KEY, "[1, 2]");
    assert.equal(tab().client.readSession(), null);
    assert.equal(tab().client.deviceToken(EMAIL), null);
  });

  test("a new sign-in ends the session this browser held before", async () => {
    const { api, tab } = browser();
    const { client } = tab();
    await signIn(client);
    await signIn(client);
    assert.deepEqual(
      api.callsOf("POST /logout").map((call) => call.body),
      [{ refreshToken: "refresh-1" }]
    );
    assert.equal(client.readSession()?.refreshToken, "refresh-2");
  });
});

// ---- Refresh timing ----------------------------------------------------------------------

describe("refresh timing", () => {
  test("the refresh starts at 80% of the access token's lifetime, before it expires", async () => {
    const { api, clock, storage, tab } = browser({ accessTtl: 900 });
    const { client, told } = tab();
    await signIn(client);
    assert.deepEqual(clock.waits(), [720_000]);

    await clock.advance(719_999);
    assert.deepEqual(api.callsOf("POST /token/refresh"), [], "not yet");
    await clock.advance(1);
    const refreshes = api.callsOf("POST /token/refresh");
    assert.equal(refreshes.length, 1);
    assert.deepEqual(refreshes[0].body, { refreshToken: "refresh-1" });
    assert.ok(refreshes[0].at < START + 900_000, "before the access token expires");

    assert.equal(stored(storage).accessToken, "access-2");
    assert.equal(stored(storage).refreshToken, "refresh-2");
    assert.deepEqual(
      told.map((session) => session?.accessToken),
      ["access-2"]
    );
    assert.deepEqual(clock.waits(), [720_000], "the next refresh is planned as well");

    await clock.advance(720_000);
    assert.deepEqual(
      api.callsOf("POST /token/refresh").map((call) => call.body.refreshToken),
      ["refresh-1", "refresh-2"],
      "each refresh presents the newest refresh token"
    );
  });

  test("a 3-second access token is refreshed after 2.4 s, and none sooner than after a second", async () => {
    const short = browser({ accessTtl: 3 });
    await signIn(short.tab().client);
    assert.deepEqual(short.clock.waits(), [2400]);
    await short.clock.advance(2400);
    assert.equal(short.api.callsOf("POST /token/refresh").length, 1);

    const shorter = browser({ accessTtl: 1 });
    await signIn(shorter.tab().client);
    assert.deepEqual(shorter.clock.waits(), [1000], "not at 0.8 s");
  });

  test("a refresh the service cannot answer keeps the tokens and is tried again 10 s later", async () => {
    const { api, clock, storage, tab } = browser();
    const { client, told } = tab();
    await signIn(client);
    const refresh = /** @type {Route} */ (api.routes.get("POST /token/refresh"));
    api.routes.set("POST /token/refresh", () =>
      answer(503, { error: { code: "ServiceUnavailable", message: "Busy." } })
    );
    await clock.advance(720_000);
    assert.equal(api.callsOf("POST /token/refresh").length, 1);
    assert.equal(stored(storage).refreshToken, "refresh-1");
    assert.deepEqual(told, [], "nothing changed for the page");
    assert.deepEqual(clock.waits(), [RETRY_MS]);

    api.routes.set("POST /token/refresh", refresh);
    await clock.advance(RETRY_MS);
    assert.equal(api.callsOf("POST /token/refresh").length, 2);
    assert.equal(stored(storage).refreshToken, "refresh-2");
  });

  test("a refused refresh ends the session: it is forgotten, the page told, nothing planned", async () => {
    const { api, clock, storage, tab } = browser();
    const { client, told } = tab();
    await signIn(client);
    api.routes.set("POST /token/refresh", () =>
      answer(401, { refreshed: false, error: { code: "InvalidRefreshToken", message: "Revoked." } })
    );
    await clock.advance(720_000);
    assert.equal(storage.getItem(SESSION_KEY), null);
    assert.deepEqual(told, [null]);
    assert.deepEqual(clock.waits(), []);
  });

  test("a call with a session due for refresh refreshes first", async () => {
    const { api, clock, tab } = browser();
    const { client } = tab();
    await signIn(client);
    client.stop(); // a hidden tab whose timer has not fired
    await clock.advance(800_000);
    const { reply } = await client.authorized("GET", "/sessions");
    assert.equal(reply?.status, 200);
    assert.deepEqual(api.called().slice(1), ["POST /token/refresh", "GET /sessions"]);
    assert.equal(api.calls.at(-1)?.bearer, "access-2");
  });
});

// ---- 401, refresh, one retry ---------------------------------------------------------------

describe("a call refused with 401", () => {
  test("is made once more after a refresh, with the new access token", async () => {
    const { api, tab } = browser();
    const { client } = tab();
    await signIn(client);
    // The access token stopped working early (the service's clock runs ahead, say).
    let first = true;
    api.routes.set("GET /sessions", ({ bearer }) => {
      const refused = first;
      first = false;
      return refused
        ? answer(401, { message: "Unauthorized" })
        : answer(200, { sessions: [], bearer });
    });
    const result = await client.authorized("GET", "/sessions");
    assert.equal(result.reply?.status, 200);
    assert.deepEqual(api.called().slice(1), [
      "GET /sessions",
      "POST /token/refresh",
      "GET /sessions",
    ]);
    assert.deepEqual(
      api.callsOf("GET /sessions").map((call) => call.bearer),
      ["access-1", "access-2"]
    );
  });

  test("again after the retry is the answer: no third call, no second refresh", async () => {
    const { api, tab } = browser();
    const { client } = tab();
    await signIn(client);
    api.routes.set("GET /sessions", () =>
      answer(401, { error: { code: "InvalidAccessToken", message: "The session has ended." } })
    );
    const result = await client.authorized("GET", "/sessions");
    assert.equal(result.reply?.status, 401);
    assert.equal(result.reply?.error?.code, "InvalidAccessToken");
    assert.deepEqual(api.called().slice(1), [
      "GET /sessions",
      "POST /token/refresh",
      "GET /sessions",
    ]);
  });

  test("whose refresh is refused too means the session has ended", async () => {
    const { api, storage, tab } = browser();
    const { client, told } = tab();
    await signIn(client);
    api.routes.set("GET /sessions", () => answer(401, { message: "Unauthorized" }));
    api.routes.set("POST /token/refresh", () =>
      answer(401, { refreshed: false, error: { code: "InvalidRefreshToken", message: "Ended." } })
    );
    assert.deepEqual(await client.authorized("GET", "/sessions"), { ended: true });
    assert.equal(storage.getItem(SESSION_KEY), null);
    assert.deepEqual(told, [null]);
  });

  test("whose refresh gets no answer answers that failure, keeping the session", async () => {
    const { api, storage, tab } = browser();
    const { client } = tab();
    await signIn(client);
    api.routes.set("GET /sessions", () => answer(401, { message: "Unauthorized" }));
    api.routes.set("POST /token/refresh", () => {
      throw new TypeError("fetch failed");
    });
    const result = await client.authorized("GET", "/sessions");
    assert.equal(result.reply?.status, 0);
    assert.equal(stored(storage).refreshToken, "refresh-1");
  });

  test("without a session, nothing is called", async () => {
    const { api, tab } = browser();
    assert.deepEqual(await tab().client.authorized("GET", "/sessions"), { ended: true });
    assert.deepEqual(api.calls, []);
  });
});

// ---- Two tabs ------------------------------------------------------------------------------

describe("two tabs of one browser", () => {
  /**
   * Two tabs signed in, each with its own copy of the storage that the other's writes reach 1 ms
   * later (as in Chrome: after the lock can be granted), and refresh answers that take 200 ms
   * (so that both tabs are due while the first refresh is under way).
   *
   * @param {{ locks?: boolean }} [settings]
   */
  async function twoTabs(settings) {
    const world = browser({ ...settings, propagation: 1 });
    const first = world.tab();
    await signIn(first.client);
    const second = world.tab(); // opened later, while signed in
    const refresh = /** @type {Route} */ (world.api.routes.get("POST /token/refresh"));
    world.api.routes.set("POST /token/refresh", async (call) => {
      await world.clock.sleep(200);
      return refresh(call);
    });
    return { ...world, first, second };
  }

  test("due at once send one refresh; the other tab picks up the rotated tokens", async () => {
    const { api, clock, locks, first, second } = await twoTabs();
    assert.deepEqual(clock.waits(), [720_000, 720_000], "both tabs plan the refresh");
    await clock.advance(720_000 + 1000);
    assert.deepEqual(
      api.callsOf("POST /token/refresh").map((call) => call.body.refreshToken),
      ["refresh-1"],
      "one refresh token presented once"
    );
    assert.ok(locks.grants() >= 2, "each tab held the lock in turn");
    for (const tab of [first, second]) {
      assert.equal(stored(tab.storage).refreshToken, "refresh-2");
      assert.equal(tab.told.at(-1)?.accessToken, "access-2");
    }
    assert.deepEqual(clock.waits(), [720_000 - 800, 720_000 - 800], "both plan the next one");
  });

  test("the tab that waited for the lock waits for the other's write to reach it", async () => {
    const { api, clock, first, second } = await twoTabs();
    first.client.stop();
    second.client.stop();
    await clock.advance(720_000); // due
    const one = first.client.refresh("refresh-1");
    const other = second.client.refresh("refresh-1");
    await clock.advance(200); // the first answer came and was stored; the lock passed on
    assert.equal(stored(second.storage).refreshToken, "refresh-1", "not here yet");
    await clock.advance(1000);
    assert.equal((await one).session?.refreshToken, "refresh-2");
    assert.equal((await other).session?.refreshToken, "refresh-2");
    assert.equal(api.callsOf("POST /token/refresh").length, 1);
  });

  test("calling the API at once while due: one refresh, both calls with the new token", async () => {
    const { api, clock, first, second } = await twoTabs();
    first.client.stop();
    second.client.stop();
    await clock.advance(800_000);
    const calls = Promise.all([
      first.client.authorized("GET", "/sessions"),
      second.client.authorized("GET", "/sessions"),
    ]);
    await clock.advance(1000);
    const replies = await calls;
    assert.deepEqual(
      replies.map((result) => result.reply?.status),
      [200, 200]
    );
    assert.equal(api.callsOf("POST /token/refresh").length, 1);
    assert.deepEqual(
      api.callsOf("GET /sessions").map((call) => call.bearer),
      ["access-2", "access-2"]
    );
  });

  test("without Web Locks both would refresh (what the lock is for)", async () => {
    const { api, clock } = await twoTabs({ locks: false });
    await clock.advance(720_000 + 1000);
    assert.deepEqual(
      api.callsOf("POST /token/refresh").map((call) => call.body.refreshToken),
      ["refresh-1", "refresh-1"]
    );
  });

  test("a logout in one tab ends the session in the other, through the storage event", async () => {
    const { clock, first, second } = await twoTabs();
    assert.equal(await first.client.logout(false), null);
    await clock.advance(1);
    assert.deepEqual(second.told, [null]);
    assert.equal(second.client.readSession(), null);
    assert.deepEqual(clock.waits(), [], "neither tab plans a refresh");
    second.client.storageChanged("unrelated"); // other keys are none of its business
    assert.equal(second.told.length, 1);
  });

  test("a lock stuck elsewhere fails the refresh as unanswered, sends nothing, and tries later", async () => {
    const { api, clock, locks, first, second } = await twoTabs();
    first.client.stop();
    second.client.stop();
    await clock.advance(720_000); // due
    // A holder that never lets go (a browser that kept the lock of a tab gone).
    locks.request(
      SESSION_KEY,
      { mode: "exclusive", signal: new AbortController().signal },
      () => new Promise(() => {})
    );
    const result = first.client.refresh("refresh-1");
    await clock.advance(LOCK_WAIT_MS);
    const { session, failure } = await result;
    assert.equal(session?.refreshToken, "refresh-1");
    assert.equal(failure?.timedOut, true);
    assert.deepEqual(api.callsOf("POST /token/refresh"), []);
    assert.deepEqual(clock.waits(), [RETRY_MS], "a retry planned");
  });
});

// ---- withLock ----------------------------------------------------------------------------

describe("withLock", () => {
  const timers = fakeClock().timers;

  test("runs tasks of one name one at a time, in order", async () => {
    const locks = fakeLocks();
    /** @type {string[]} */
    const log = [];
    /** @param {string} name */
    const task = (name) => async () => {
      log.push(`${name} starts`);
      await settle();
      log.push(`${name} ends`);
      return name;
    };
    const results = await Promise.all([
      withLock(locks, "x", 1000, timers, task("a")),
      withLock(locks, "x", 1000, timers, task("b")),
    ]);
    assert.deepEqual(results, ["a", "b"]);
    assert.deepEqual(log, ["a starts", "a ends", "b starts", "b ends"]);
  });

  test("tells the task whether it had to wait for another holder", async () => {
    const locks = fakeLocks();
    /** @param {boolean} waited */
    const task = async (waited) => {
      await settle();
      return waited;
    };
    const waits = await Promise.all([
      withLock(locks, "x", 1000, timers, task),
      withLock(locks, "x", 1000, timers, task),
    ]);
    assert.deepEqual(waits, [false, true]);
    assert.equal(await withLock(locks, "x", 1000, timers, task), false, "free again");
  });

  test("rejects with LockTimeoutError, without running the task, when the lock is not granted", async () => {
    const clock = fakeClock();
    const locks = fakeLocks();
    locks.request(
      "x",
      { mode: "exclusive", signal: new AbortController().signal },
      () => new Promise(() => {})
    );
    let ran = false;
    const waiting = withLock(locks, "x", 500, clock.timers, async () => {
      ran = true;
    });
    const outcome = waiting.then(
      () => "resolved",
      (error) => error
    );
    await clock.advance(500);
    assert.ok((await outcome) instanceof LockTimeoutError);
    assert.equal(ran, false);
  });

  test("runs the task at once without a lock manager, or when it refuses the request", async () => {
    assert.equal(await withLock(null, "x", 1000, timers, async () => 1), 1);
    /** @type {Locks} */
    const refusing = {
      request: async () => Promise.reject(new DOMException("No.", "SecurityError")),
    };
    assert.equal(await withLock(refusing, "x", 1000, timers, async () => 2), 2);
  });

  test("a failing task rejects with its own error and is not run again", async () => {
    let runs = 0;
    const failing = withLock(fakeLocks(), "x", 1000, timers, async () => {
      runs += 1;
      throw new Error("the task's own");
    });
    await assert.rejects(failing, /the task's own/);
    assert.equal(runs, 1);
  });
});

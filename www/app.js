// Shared code of the sample pages: reads config.js, calls the LambdAuth HTTP API, turns its
// answers into words, renders them in #message, keeps the session of a sign-in (refreshing its
// access token before it expires), and wires the page named by <body data-page>.
"use strict";

(() => {
  const config = window.LAMBDAUTH_CONFIG || {};
  const apiBaseUrl = String(config.apiBaseUrl || "").trim().replace(/\/+$/, "");
  const SESSION_KEY = "lambdauth.session";
  const DEVICES_KEY = "lambdauth.devices";
  const TIMEOUT_MS = 30000;
  // The access token is refreshed when this share of its lifetime has passed.
  const REFRESH_AT = 0.8;
  // After a refresh the service could not answer, the next try waits this long.
  const RETRY_MS = 10000;

  const $ = (id) => document.getElementById(id);

  // ---- Calling the API -------------------------------------------------------------------

  // Sends `method` to `path`, with `body` as JSON and `accessToken` as the bearer token when
  // given. Never throws: a network failure or a timeout is status 0.
  async function request(method, path, { body, accessToken } = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
    try {
      const response = await fetch(apiBaseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
        signal: controller.signal,
      });
      const data = await response.json().catch(() => null);
      return {
        status: response.status,
        ok: response.ok,
        data,
        retryAfter: response.headers.get("Retry-After"),
      };
    } catch {
      return { status: 0, timedOut: controller.signal.aborted };
    } finally {
      clearTimeout(timer);
    }
  }

  // POSTs `body` as JSON to `path`.
  const post = (path, body) => request("POST", path, { body });

  // ---- Turning answers into words --------------------------------------------------------

  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  function sentence(text) {
    const trimmed = text.trim();
    return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
  }

  // Seconds to wait: the Retry-After header (seconds or a date), else the body's retryAfter
  // (a cross-origin page cannot read the header unless the API exposes it).
  function waitSeconds(reply, error) {
    const header = (reply.retryAfter || "").trim();
    let wait = /^\d+$/.test(header)
      ? Number(header)
      : Math.ceil((Date.parse(header) - Date.now()) / 1000);
    if (!(wait >= 1)) wait = Number(error.retryAfter);
    return wait >= 1 ? Math.ceil(wait) : null;
  }

  // Words and code for a failed call. `refused` says what did not happen ("No account was
  // created"); `hints` adds a next step for some error codes.
  function describeFailure(reply, refused, hints = {}) {
    if (reply.status === 0) {
      return {
        text: reply.timedOut
          ? "The service did not answer in time. Please try again."
          : "The service could not be reached. Check your connection and try again.",
      };
    }
    const data = reply.data && typeof reply.data === "object" ? reply.data : {};
    const error = data.error && typeof data.error === "object" ? data.error : {};
    const code = typeof error.code === "string" ? error.code : undefined;
    if (reply.status === 429) {
      const wait = waitSeconds(reply, error);
      return {
        code,
        text: wait
          ? `Too many requests for this address. Please wait ${plural(wait, "second")}, then try again.`
          : "Too many requests for this address. Please wait a little, then try again.",
      };
    }
    if (reply.status === 503) {
      return { code, text: "The service is busy right now. Please try again in a moment." };
    }
    if (reply.status >= 500) {
      const id = typeof error.requestId === "string" ? error.requestId : "";
      return {
        code,
        text: id
          ? `Something went wrong on the server. Please try again later; if you report it, quote the request id ${id}.`
          : `Something went wrong on the server (HTTP ${reply.status}). Please try again later.`,
      };
    }
    const reason =
      typeof error.message === "string" && error.message.trim()
        ? sentence(error.message)
        : `the service answered with HTTP ${reply.status}.`;
    const hint = code && hints[code] ? ` ${hints[code]}` : "";
    return { code, text: `${refused}: ${reason}${hint}` };
  }

  // ---- Rendering messages ----------------------------------------------------------------

  // Shows `text` in #message; `state` is "pending", "ok" or "error".
  function showMessage(state, text, code) {
    const message = $("message");
    message.dataset.state = state;
    if (code) message.dataset.code = code;
    else delete message.dataset.code;
    message.textContent = text;
  }

  function formatTime(iso) {
    return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  // ---- The session kept after a login (never the password) --------------------------------
  //
  // A sign-in's tokens are kept in localStorage, so that the session outlives the tab: staying
  // signed in without the password is what the refresh token is for. Any script of this origin
  // can read localStorage; that is acceptable for these pages, which load no script but their
  // own and forbid inline ones (see their Content-Security-Policy). An application that loads
  // third-party code would rather keep the refresh token in an HttpOnly cookie of its own
  // backend. The tabs of one browser share the session, and refresh it one at a time (a Web
  // Lock), so a rotated refresh token is never presented twice.

  function readSession() {
    try {
      const session = JSON.parse(localStorage.getItem(SESSION_KEY));
      if (!session || typeof session.email !== "string") return null;
      if (session.refreshToken && !(Date.parse(session.refreshTokenExpiresAt) > Date.now())) {
        localStorage.removeItem(SESSION_KEY); // the session's own lifetime is over
        return null;
      }
      return session;
    } catch {
      return null;
    }
  }

  function saveSession(session) {
    try {
      localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    } catch {
      // Storage can be off (private modes); the page still shows the identity.
    }
  }

  function forgetSession() {
    try {
      localStorage.removeItem(SESSION_KEY);
    } catch {
      // Nothing was stored.
    }
  }

  // The session of a login or refresh answer, with every lifetime turned into a time.
  function sessionFrom(email, data) {
    const now = Date.now();
    const at = (seconds) => {
      const lifetime = Number(seconds);
      return new Date(now + (Number.isFinite(lifetime) ? lifetime * 1000 : 0)).toISOString();
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

  const refreshDue = (session) => !(Date.parse(session.refreshAt) > Date.now());

  // The device token of each address signed in from this browser. It outlives logouts (it is
  // what tells the service this browser is the owner's, so that failures from elsewhere do not
  // lock it out) and ends with a password change or reset.
  const deviceKey = (email) => email.trim().normalize("NFC").toLowerCase();

  function readDevices() {
    try {
      const devices = JSON.parse(localStorage.getItem(DEVICES_KEY));
      return devices && typeof devices === "object" && !Array.isArray(devices) ? devices : {};
    } catch {
      return {};
    }
  }

  function deviceToken(email) {
    const devices = readDevices();
    const key = deviceKey(email);
    return Object.hasOwn(devices, key) && typeof devices[key] === "string" ? devices[key] : null;
  }

  function storeDeviceToken(email, token) {
    const devices = readDevices();
    if (token === null) delete devices[deviceKey(email)];
    else devices[deviceKey(email)] = token;
    try {
      localStorage.setItem(DEVICES_KEY, JSON.stringify(devices));
    } catch {
      // Without storage every login counts as one from an unknown device.
    }
  }

  // A password change or reset ends every session and device token of the address.
  function forgetAccount(email) {
    const session = readSession();
    if (session && deviceKey(session.email) === deviceKey(email)) {
      forgetSession();
      announce(null);
    }
    storeDeviceToken(email, null);
  }

  // ---- Keeping the session alive -----------------------------------------------------------

  const watchers = []; // the page's renderers, told of every new or ended session
  let refreshing = null; // this tab's refresh in flight
  let refreshTimer;

  function announce(session) {
    for (const watcher of watchers) watcher(session);
  }

  // Runs `task` (which never throws) while no other tab of this browser changes the session;
  // without Web Locks (an insecure context, an old browser), at once.
  function withSessionLock(task) {
    if (!navigator.locks) return task();
    return navigator.locks.request(SESSION_KEY, task).catch(() => task());
  }

  // Trades the refresh token for new tokens; the old refresh token is spent. `stale` is the
  // refresh token the caller found wanting: when another tab has rotated it meanwhile, its
  // tokens are used as they are. Answers { session } (null when the session has ended, which
  // forgets it), or { session, failure } when the service could not answer (the tokens stay
  // for a later try).
  function refresh(stale) {
    if (refreshing) return refreshing;
    refreshing = withSessionLock(async () => {
      const stored = readSession();
      if (!stored || !stored.refreshToken) return { session: null };
      if (stored.refreshToken !== stale && !refreshDue(stored)) return { session: stored };
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
    }).finally(() => {
      refreshing = null;
    });
    refreshing.then((result) => {
      keepSession(result.failure ? RETRY_MS : 0);
      if (!result.failure) announce(result.session);
    });
    return refreshing;
  }

  // Refreshes the stored session when its access token has lived REFRESH_AT of its lifetime
  // (after `retryIn` milliseconds at the earliest, and never twice within a second).
  function keepSession(retryIn = 0) {
    clearTimeout(refreshTimer);
    const session = readSession();
    if (!session || !session.refreshToken) return;
    const wait = Math.max(retryIn, Date.parse(session.refreshAt) - Date.now(), 1000);
    refreshTimer = setTimeout(() => refresh(session.refreshToken), wait);
  }

  // Calls the API with the session's access token: refreshed first when it is due, and once
  // more when the call is refused with 401 (the token expired on the way, say). Answers
  // { reply }, or { ended: true } when there is no session (any more).
  async function authorized(method, path) {
    let session = readSession();
    if (session && session.refreshToken && refreshDue(session)) {
      session = (await refresh(session.refreshToken)).session;
    }
    if (!session || !session.accessToken) return { ended: true };
    const reply = await request(method, path, { accessToken: session.accessToken });
    if (reply.status !== 401 || !session.refreshToken) return { reply };
    const renewed = await refresh(session.refreshToken);
    if (!renewed.session) return { ended: true };
    if (renewed.failure) return { reply: renewed.failure };
    return { reply: await request(method, path, { accessToken: renewed.session.accessToken }) };
  }

  // Ends this session, or with `everywhere` every session of the account, and forgets it here.
  // Answers the reply when the service did not confirm (the session is kept then).
  async function logout(everywhere) {
    const result = await withSessionLock(async () => {
      const session = readSession();
      if (session && session.refreshToken) {
        const body = { refreshToken: session.refreshToken };
        if (everywhere) body.everywhere = true;
        const reply = await post("/logout", body);
        if (!(reply.ok && reply.data && reply.data.loggedOut === true)) return { reply };
      }
      forgetSession();
      return {};
    });
    if (!result.reply) {
      clearTimeout(refreshTimer);
      announce(null);
    }
    return result.reply || null;
  }

  // Keeps a new login's session; a session this browser held before is ended, since nothing
  // could use it any more.
  function startSession(session) {
    withSessionLock(async () => {
      const previous = readSession();
      saveSession(session);
      if (previous && previous.refreshToken && previous.refreshToken !== session.refreshToken) {
        await post("/logout", { refreshToken: previous.refreshToken });
      }
    }).then(() => keepSession());
  }

  // ---- The pages -------------------------------------------------------------------------

  const typed = (id) => $(id).value; // passwords exactly as typed
  const address = (id) => $(id).value.trim(); // the server normalizes the rest

  const forms = {
    signup: {
      path: "/users",
      answer: "created",
      pending: "Creating the account…",
      refused: "No account was created",
      confirm: ["password", "confirm"],
      body: () => ({ email: address("email"), password: typed("password") }),
      success: (sent) =>
        `Thank you. If this address can be registered, a verification mail is on its way to ${sent.email}. Open the link in it to finish signing up.`,
    },
    verify: {
      path: "/users/verify",
      answer: "verified",
      pending: "Verifying the address…",
      refused: "The address was not verified",
      link: "verify",
      once: true,
      hints: {
        InvalidToken: "To get a new link, sign up again with the same address.",
        PasswordRequired:
          "This address was signed up more than once. Enter the password you chose when you signed up, then press the button again.",
        InvalidCredentials:
          "That is not the password of the signup this link was sent for. If you did not sign up before this mail came, this link is not yours: sign up again and use the link of your own signup.",
      },
      // The password is asked for only when the service needs it (an address signed up twice).
      body: (link) =>
        $("password-field").hidden
          ? { email: link.email, verify: link.token }
          : { email: link.email, verify: link.token, password: typed("password") },
      refusedWith: (code) => {
        if (code === "PasswordRequired" || code === "InvalidCredentials") {
          $("password-field").hidden = false;
          $("password").focus();
        }
      },
      success: (sent) => `Thank you, ${sent.email} is verified. You can sign in now.`,
    },
    login: {
      path: "/login",
      answer: "login",
      pending: "Signing in…",
      refused: "You are not signed in",
      hints: {
        UserNotVerified: "Open the link in the verification mail first.",
      },
      // The device token this browser got at an earlier login of the address, if any.
      body: () => {
        const email = address("email");
        const device = deviceToken(email);
        return device
          ? { email, password: typed("password"), deviceToken: device }
          : { email, password: typed("password") };
      },
      success: (sent) => `Signed in as ${sent.email}.`,
      after: (sent, data) => {
        const session = sessionFrom(sent.email, data);
        if (typeof data.deviceToken === "string") storeDeviceToken(sent.email, data.deviceToken);
        startSession(session);
        $("identity-id").textContent = data.identityId;
        $("expires-at").textContent = formatTime(session.expiresAt);
        $("expires-at").dateTime = session.expiresAt;
        $("result").hidden = false;
      },
    },
    change: {
      path: "/password/change",
      answer: "changed",
      pending: "Changing the password…",
      refused: "The password was not changed",
      confirm: ["new-password", "confirm"],
      body: () => ({
        email: address("email"),
        oldPassword: typed("old-password"),
        newPassword: typed("new-password"),
      }),
      success: (sent) =>
        `The password for ${sent.email} has been changed, and every session of the account has ended. Sign in again with the new password.`,
      after: (sent) => forgetAccount(sent.email),
    },
    lost: {
      path: "/password/lost",
      answer: "sent",
      pending: "Asking for a reset link…",
      refused: "No reset link was sent",
      body: () => ({ email: address("email") }),
      success: (sent) =>
        `If an account exists for ${sent.email}, a mail with a link to choose a new password is on its way. The link works once and only for a limited time.`,
    },
    reset: {
      path: "/password/reset",
      answer: "changed",
      pending: "Setting the new password…",
      refused: "The password was not changed",
      link: "lost",
      once: true,
      confirm: ["new-password", "confirm"],
      hints: {
        InvalidToken: "You can ask for a new link on the lost password page.",
      },
      body: (link) => ({ email: link.email, lost: link.token, password: typed("new-password") }),
      success: (sent) =>
        `The password for ${sent.email} has been changed, and every session of the account has ended. You can sign in with the new password now.`,
      after: (sent) => forgetAccount(sent.email),
    },
  };

  // The address and token of a mailed link: in the fragment, which no server ever sees, or in
  // the query of a link mailed in the original's form. The fragment is cleared from the address
  // bar and history at once. Reading them sends nothing: only the button does.
  function readLink(tokenName) {
    const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    const query = fragment.has(tokenName) ? fragment : new URLSearchParams(window.location.search);
    // The token leaves the address bar and history at once, whichever form carried it.
    if (window.location.hash || query.has(tokenName)) {
      history.replaceState(null, "", window.location.pathname);
    }
    // A "+" left unencoded in the address arrives as a space, which no address contains.
    const email = (query.get("email") || "").trim().replace(/ /g, "+");
    const token = (query.get(tokenName) || "").trim();
    $("email").textContent = email;
    return email && token ? { email, token } : null;
  }

  function disableForm(form) {
    for (const control of form.elements) control.disabled = true;
  }

  function wireForm(page) {
    const form = $("form");
    const submit = $("submit");
    const result = $("result");
    const link = page.link ? readLink(page.link) : null;
    const incomplete = Boolean(page.link && !link);
    if (incomplete) {
      disableForm(form);
      showMessage(
        "error",
        "This link is incomplete: it needs both the address and the code from the mail. Copy the whole link from the mail into the address bar."
      );
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (incomplete || submit.disabled) return;
      if (result) result.hidden = true;
      if (page.confirm && typed(page.confirm[0]) !== typed(page.confirm[1])) {
        showMessage("error", "The passwords do not match.");
        $(page.confirm[1]).focus();
        return;
      }
      const sent = page.body(link);
      submit.disabled = true;
      form.setAttribute("aria-busy", "true");
      showMessage("pending", page.pending);

      const reply = await post(page.path, sent);
      const done = reply.ok && reply.data !== null && reply.data[page.answer] === true;
      if (done) {
        for (const input of form.querySelectorAll('input[type="password"]')) input.value = "";
        showMessage("ok", page.success(sent, reply.data));
        if (page.after) page.after(sent, reply.data);
      } else {
        const failure = reply.ok
          ? { text: `${page.refused}: the service gave an unexpected answer.` }
          : describeFailure(reply, page.refused, page.hints);
        showMessage("error", failure.text, failure.code);
        if (page.refusedWith) page.refusedWith(failure.code);
      }
      form.removeAttribute("aria-busy");
      if (done && page.once) disableForm(form);
      else submit.disabled = false;
    });
  }

  function wireIndex() {
    const render = () => {
      const session = readSession();
      $("signed-in").hidden = !session;
      $("signed-out").hidden = Boolean(session);
      if (!session) return;
      $("session-email").textContent = session.email;
      $("session-identity").textContent = String(session.identityId || "");
      const expired = !(Date.parse(session.expiresAt) > Date.now());
      const renewed = Boolean(session.refreshToken);
      if (expired) {
        $("session-expiry").textContent = renewed
          ? "The token has expired; it is renewed at the session's next refresh."
          : "The token has expired; sign in again for a new one.";
      } else {
        $("session-expiry").textContent = renewed
          ? `The token is valid until ${formatTime(session.expiresAt)}, and renewed while you stay signed in.`
          : `The token is valid until ${formatTime(session.expiresAt)}.`;
      }
    };
    watchers.push(render);
    $("sign-out").addEventListener("click", async () => {
      $("sign-out").disabled = true;
      showMessage("pending", "Signing out…");
      const failed = await logout(false);
      $("sign-out").disabled = false;
      if (failed) {
        const failure = describeFailure(failed, "You are still signed in");
        showMessage("error", failure.text, failure.code);
        return;
      }
      showMessage("ok", "You are signed out in this browser.");
      render();
      $("signed-out").focus();
    });
    render();
  }

  function wireChange() {
    const session = readSession();
    if (session && !$("email").value) $("email").value = session.email;
  }

  // A short description of a session's browser, e.g. "Firefox on Windows"; the string itself
  // when it names no browser known here.
  function describeAgent(agent) {
    if (typeof agent !== "string" || !agent.trim()) return "An unknown browser or program";
    const browsers = [
      [/Edg\//, "Edge"],
      [/OPR\//, "Opera"],
      [/Firefox\//, "Firefox"],
      [/Chrom(e|ium)\//, "Chrome"],
      [/Safari\//, "Safari"],
    ];
    const systems = [
      [/Android/, "Android"],
      [/iPhone|iPad|iPod/, "iOS"],
      [/Windows/, "Windows"],
      [/Mac OS X|Macintosh/, "macOS"],
      [/CrOS/, "ChromeOS"],
      [/Linux/, "Linux"],
    ];
    const browser = browsers.find(([pattern]) => pattern.test(agent));
    if (!browser) return agent.length > 80 ? `${agent.slice(0, 79)}…` : agent;
    const system = systems.find(([pattern]) => pattern.test(agent));
    return system ? `${browser[1]} on ${system[1]}` : browser[1];
  }

  function timeElement(iso) {
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = formatTime(iso);
    return time;
  }

  // The sessions page: the account's live sessions, ending one, logging out here or everywhere.
  function wireSessions() {
    const list = $("sessions");
    const buttons = () => document.querySelectorAll("#signed-in button");
    const busy = (on) => {
      for (const button of buttons()) button.disabled = on;
      if (on) list.setAttribute("aria-busy", "true");
      else list.removeAttribute("aria-busy");
    };
    let shown = readSession();
    let leaving = false; // a logout of this page's own is under way

    const render = (session) => {
      shown = session;
      $("signed-in").hidden = !session;
      $("signed-out").hidden = Boolean(session);
      if (session) $("session-email").textContent = session.email;
      else list.replaceChildren();
    };

    // The session is gone: refreshing it was refused, or another tab logged out.
    const ended = () => {
      render(null);
      showMessage("error", "Your session has ended. Sign in again to see your sessions.");
    };

    const item = (entry) => {
      const li = document.createElement("li");
      li.className = "session-item";
      li.dataset.sessionId = String(entry.id);
      li.dataset.current = String(entry.current === true);
      const title = document.createElement("p");
      const name = document.createElement("strong");
      name.textContent = entry.current === true ? "This browser" : describeAgent(entry.userAgent);
      title.append(name);
      if (entry.current === true && typeof entry.userAgent === "string") {
        title.append(` (${describeAgent(entry.userAgent)})`);
      }
      if (typeof entry.userAgent === "string") title.title = entry.userAgent;
      const times = document.createElement("p");
      times.className = "detail";
      times.append("Signed in ", timeElement(entry.createdAt), ", last used ");
      times.append(timeElement(entry.lastUsedAt), ".");
      const end = document.createElement("button");
      end.type = "button";
      end.className = "secondary end";
      end.textContent = entry.current === true ? "End (log out here)" : "End";
      end.addEventListener("click", () =>
        entry.current === true ? leave(false) : endOne(li, String(entry.id))
      );
      li.append(title, times, end);
      return li;
    };

    async function load() {
      busy(true);
      showMessage("pending", "Loading your sessions…");
      const { reply, ended: over } = await authorized("GET", "/sessions");
      busy(false);
      if (over) return ended();
      const sessions = reply.ok && reply.data ? reply.data.sessions : null;
      if (!Array.isArray(sessions)) {
        const failure = reply.ok
          ? { text: "The sessions could not be listed: the service gave an unexpected answer." }
          : describeFailure(reply, "The sessions could not be listed");
        showMessage("error", failure.text, failure.code);
        return;
      }
      list.replaceChildren(...sessions.map(item));
      const n = sessions.length;
      showMessage("ok", `${plural(n, "session")} of this account ${n === 1 ? "is" : "are"} live.`);
    }

    async function endOne(li, id) {
      busy(true);
      showMessage("pending", "Ending the session…");
      const { reply, ended: over } = await authorized("DELETE", `/sessions/${encodeURIComponent(id)}`);
      busy(false);
      if (over) return ended();
      if (reply.ok && reply.data && reply.data.ended === true) {
        li.remove();
        showMessage("ok", "The session has ended: it can no longer be refreshed.");
      } else if (reply.status === 404) {
        li.remove();
        showMessage("ok", "That session had already ended.");
      } else {
        const failure = reply.ok
          ? { text: "The session was not ended: the service gave an unexpected answer." }
          : describeFailure(reply, "The session was not ended");
        showMessage("error", failure.text, failure.code);
      }
    }

    async function leave(everywhere) {
      busy(true);
      showMessage("pending", everywhere ? "Logging out everywhere…" : "Logging out…");
      leaving = true;
      const failed = await logout(everywhere);
      leaving = false;
      busy(false);
      if (failed) {
        const failure = describeFailure(failed, "You are still signed in");
        showMessage("error", failure.text, failure.code);
        return;
      }
      render(null);
      showMessage(
        "ok",
        everywhere
          ? "You are logged out everywhere: every session of this account has ended."
          : "You are logged out in this browser."
      );
      $("signed-out").focus();
    }

    watchers.push((session) => {
      if (leaving) return;
      if (!session && shown) ended();
      else if (session) render(session);
    });
    $("reload").addEventListener("click", load);
    $("logout-here").addEventListener("click", () => leave(false));
    $("logout-everywhere").addEventListener("click", () => leave(true));
    render(shown);
    if (shown) load();
  }

  // Another tab signed in, refreshed, or logged out.
  window.addEventListener("storage", (event) => {
    if (event.key !== SESSION_KEY && event.key !== null) return;
    keepSession();
    announce(readSession());
  });
  // Timers of a hidden tab are throttled: a tab shown again refreshes at once when it is due.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") keepSession();
  });
  keepSession();

  const name = document.body.dataset.page;
  if (name === "index") wireIndex();
  if (name === "change") wireChange();
  if (name === "sessions") wireSessions();
  if (forms[name]) wireForm(forms[name]);
})();

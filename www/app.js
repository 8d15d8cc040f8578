// Shared code of the sample pages: reads config.js, calls the LambdAuth HTTP API, turns its
// answers into words, renders them in #message, and wires the page named by <body data-page>.
"use strict";

(() => {
  const config = window.LAMBDAUTH_CONFIG || {};
  const apiBaseUrl = String(config.apiBaseUrl || "").trim().replace(/\/+$/, "");
  const SESSION_KEY = "lambdauth.session";
  const TIMEOUT_MS = 30000;

  const $ = (id) => document.getElementById(id);

  // ---- Calling the API -------------------------------------------------------------------

  // POSTs `body` as JSON to `path`. Never throws: a network failure or a timeout is status 0.
  async function post(path, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(apiBaseUrl + path, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
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

  // ---- The session kept after a login (this tab only, never the password) -----------------

  function readSession() {
    try {
      const session = JSON.parse(sessionStorage.getItem(SESSION_KEY));
      return session && typeof session.email === "string" ? session : null;
    } catch {
      return null;
    }
  }

  function saveSession(session) {
    try {
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    } catch {
      // Storage can be off (private modes); the page still shows the identity.
    }
  }

  function forgetSession() {
    try {
      sessionStorage.removeItem(SESSION_KEY);
    } catch {
      // Nothing was stored.
    }
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
      body: () => ({ email: address("email"), password: typed("password") }),
      success: (sent) => `Signed in as ${sent.email}.`,
      after: (sent, data) => {
        const expiresAt = new Date(Date.now() + Number(data.expiresIn) * 1000).toISOString();
        saveSession({
          email: sent.email,
          identityId: data.identityId,
          token: data.token,
          expiresAt,
        });
        $("identity-id").textContent = data.identityId;
        $("expires-at").textContent = formatTime(expiresAt);
        $("expires-at").dateTime = expiresAt;
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
      success: (sent) => `The password for ${sent.email} has been changed.`,
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
      success: (sent) => `The password for ${sent.email} has been changed. You can sign in with it now.`,
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
      $("session-expiry").textContent = expired
        ? "The token has expired; sign in again for a new one."
        : `The token is valid until ${formatTime(session.expiresAt)}.`;
    };
    $("sign-out").addEventListener("click", () => {
      forgetSession();
      render();
      $("signed-out").focus();
    });
    render();
  }

  function wireChange() {
    const session = readSession();
    if (session && !$("email").value) $("email").value = session.email;
  }

  const name = document.body.dataset.page;
  if (name === "index") wireIndex();
  if (name === "change") wireChange();
  if (forms[name]) wireForm(forms[name]);
})();

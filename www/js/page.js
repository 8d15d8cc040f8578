// @ts-check
// What every page shares: its API client, whose session is kept alive from the moment any page
// opens, the message line (#message), and the forms that send one call each.

import { createClient } from "./client.js";
import { describeFailure } from "./messages.js";

/** @import { Reply } from "./client.js" */

/**
 * @typedef {{ email: string, token: string }} Link The address and token of a mailed link.
 */

/**
 * @typedef {{ email: string, [field: string]: string }} Sent The body a form sends.
 */

/**
 * @typedef {object} FormPage A page whose form sends one call.
 * @property {string} path where the form's call goes
 * @property {string} answer the field of the answer that is `true` when the call did its work
 * @property {string} pending words while the call is under way
 * @property {string} refused what did not happen when it failed ("No account was created")
 * @property {string} [link] the name of the token in the mailed link the page is opened from
 * @property {boolean} [once] whether the form is spent once it succeeded (a link works once)
 * @property {[string, string]} [confirm] ids of two password fields that must match
 * @property {Record<string, string>} [hints] a next step to add, by error code
 * @property {(link: Link) => Sent} body the call's body; `link` is the page's mailed link, for
 *   the pages opened from one
 * @property {(sent: Sent, data: any) => string} success words once the call did its work
 * @property {(sent: Sent, data: any) => void} [after] what else to do then
 * @property {(code: string | undefined) => void} [refusedWith] what else to do on a refusal
 */

/** This page's client, with config.js's API address. */
export const client = createClient();

// Another tab signed in, refreshed, or logged out.
window.addEventListener("storage", (event) => client.storageChanged(event.key));
// Timers of a hidden tab are throttled: a tab shown again refreshes at once when it is due.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") client.keepSession();
});
client.keepSession();

/**
 * The element `id` of this page.
 *
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`This page has no #${id}.`);
  return element;
}

/**
 * The input `id` of this page.
 *
 * @param {string} id
 */
export const input = (id) => /** @type {HTMLInputElement} */ ($(id));

/**
 * A password exactly as typed.
 *
 * @param {string} id
 */
export const typed = (id) => input(id).value;

/**
 * An address as typed, less surrounding spaces: the server normalizes the rest.
 *
 * @param {string} id
 */
export const address = (id) => input(id).value.trim();

/**
 * Shows `text` in #message.
 *
 * @param {"pending" | "ok" | "error"} state
 * @param {string} text
 * @param {string} [code] the API's error code, for scripts and styles to read
 */
export function showMessage(state, text, code) {
  const message = $("message");
  message.dataset.state = state;
  if (code) message.dataset.code = code;
  else delete message.dataset.code;
  message.textContent = text;
}

/**
 * Shows the words of a failed call in #message.
 *
 * @param {Reply} reply
 * @param {string} refused what did not happen
 * @param {Record<string, string>} [hints]
 */
export function showFailure(reply, refused, hints) {
  const failure = describeFailure(reply, refused, hints);
  showMessage("error", failure.text, failure.code);
  return failure;
}

/**
 * A time in the reader's locale, e.g. "12 Mar 2030, 14:05".
 *
 * @param {string} iso
 */
export function formatTime(iso) {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/**
 * The address and token of a mailed link: in the fragment, which no server ever sees, or in the
 * query of a link mailed in the original's form. Shows the address in #email. Reading them sends
 * nothing: only the button does.
 *
 * @param {string} tokenName
 * @returns {Link | null} null when the link lacks either
 */
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

/** @param {HTMLFormElement} form */
function disableForm(form) {
  for (const control of form.elements) {
    /** @type {HTMLInputElement | HTMLButtonElement} */ (control).disabled = true;
  }
}

/**
 * Wires #form to send `page`'s call and show what came of it in #message.
 *
 * @param {FormPage} page
 */
export function wireForm(page) {
  const form = /** @type {HTMLFormElement} */ ($("form"));
  const submit = /** @type {HTMLButtonElement} */ ($("submit"));
  const result = document.getElementById("result"); // on the login page only
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
    // Only the pages opened from a link read it, and theirs is complete by now.
    const sent = page.body(/** @type {Link} */ (link));
    submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    showMessage("pending", page.pending);

    /** @type {Reply<Record<string, unknown>>} */
    const reply = await client.post(page.path, sent);
    const done = reply.ok && reply.data !== null && reply.data[page.answer] === true;
    if (done) {
      for (const field of form.querySelectorAll('input[type="password"]')) {
        /** @type {HTMLInputElement} */ (field).value = "";
      }
      showMessage("ok", page.success(sent, reply.data));
      if (page.after) page.after(sent, reply.data);
    } else {
      const failure = reply.ok
        ? { text: `${page.refused}: the service gave an unexpected answer.`, code: undefined }
        : describeFailure(reply, page.refused, page.hints);
      showMessage("error", failure.text, failure.code);
      if (page.refusedWith) page.refusedWith(failure.code);
    }
    form.removeAttribute("aria-busy");
    if (done && page.once) disableForm(form);
    else submit.disabled = false;
  });
}

// @ts-check
// The words the pages show for the API's answers. No DOM here, so that Node can check them.

/** @import { Reply } from "./client.js" */

/**
 * @typedef {object} Failure What to say about a failed call.
 * @property {string} text
 * @property {string} [code] the API's error code, shown as #message's data-code
 */

/**
 * "1 second", "2 seconds".
 *
 * @param {number} n
 * @param {string} word
 */
export const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * `text` as a sentence: with a full stop unless it ends in one already.
 *
 * @param {string} text
 */
function sentence(text) {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/**
 * Words and code for a failed call. `refused` says what did not happen ("No account was
 * created"); `hints` adds a next step for some error codes.
 *
 * @param {Reply} reply
 * @param {string} refused
 * @param {Record<string, string>} [hints]
 * @returns {Failure}
 */
export function describeFailure(reply, refused, hints = {}) {
  if (reply.status === 0) {
    return {
      text: reply.timedOut
        ? "The service did not answer in time. Please try again."
        : "The service could not be reached. Check your connection and try again.",
    };
  }
  const error = reply.error || {};
  const code = error.code;
  if (reply.status === 429) {
    const wait = reply.retryAfter;
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
    const id = error.requestId || "";
    return {
      code,
      text: id
        ? `Something went wrong on the server. Please try again later; if you report it, quote the request id ${id}.`
        : `Something went wrong on the server (HTTP ${reply.status}). Please try again later.`,
    };
  }
  const reason =
    error.message && error.message.trim()
      ? sentence(error.message)
      : `the service answered with HTTP ${reply.status}.`;
  const hint = code && Object.hasOwn(hints, code) ? ` ${hints[code]}` : "";
  return { code, text: `${refused}: ${reason}${hint}` };
}

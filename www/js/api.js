// @ts-check
// Calls to the LambdAuth HTTP API: the requests, what their replies carry (the error's code,
// Retry-After), and the typedefs of the answers.

/** @import { Timers } from "./browser.js" */

/**
 * @typedef {object} ApiError The `error` of a refused call, as far as it is well-formed.
 * @property {string} [code] what went wrong, e.g. "InvalidCredentials" (openapi.yaml, ErrorCode)
 * @property {string} [message] the service's words for it
 * @property {string} [requestId] the id to quote when reporting an internal error
 */

/**
 * @template [T=unknown]
 * @typedef {object} Reply What a call came back with. Calls never throw: a network failure or a
 *   timeout is status 0.
 * @property {number} status the HTTP status, 0 when no answer came
 * @property {boolean} ok whether the status is 2xx
 * @property {T | null} data the JSON body (the answer's typedef when `ok`), null when none;
 *   read its fields with care, it is what the network brought
 * @property {ApiError | null} error the body's `error`, when it has one
 * @property {number | null} retryAfter whole seconds to wait before trying again, when the
 *   answer says (the Retry-After header, or the body's `error.retryAfter`: a page of another
 *   origin cannot read the header unless the API exposes it)
 * @property {boolean} timedOut whether no answer came within the time a call is given
 */

/**
 * @typedef {object} LoginAnswer The answer of `POST /login`.
 * @property {true} login
 * @property {string} identityId the Cognito identity id
 * @property {string} token the Cognito OpenID token
 * @property {number} expiresIn seconds `token` is valid for
 * @property {string} sessionId
 * @property {string} accessToken
 * @property {number} accessTokenExpiresIn seconds `accessToken` is valid for
 * @property {string} refreshToken
 * @property {number} refreshTokenExpiresIn seconds `refreshToken` is valid for
 * @property {string} deviceToken to send with this device's later logins of the address
 */

/**
 * @typedef {Omit<LoginAnswer, "login" | "deviceToken"> & { refreshed: true }} RefreshAnswer
 *   The answer of `POST /token/refresh`: the session's new tokens.
 */

/**
 * @typedef {object} SessionEntry One live session of `GET /sessions`.
 * @property {string} id
 * @property {string} createdAt when its login happened (RFC 3339)
 * @property {string} lastUsedAt when it was last refreshed, or created (RFC 3339)
 * @property {string | null} userAgent the `User-Agent` of its login
 * @property {boolean} current whether it is the session of the access token presented
 */

/** @typedef {{ sessions: SessionEntry[] }} SessionsAnswer The answer of `GET /sessions`. */
/** @typedef {{ ended: true }} EndedAnswer The answer of `DELETE /sessions/{id}`. */
/** @typedef {{ loggedOut: true }} LogoutAnswer The answer of `POST /logout`. */

/** @typedef {Pick<Response, "status" | "ok" | "headers" | "json">} FetchResponse */
/** @typedef {(url: string, init: RequestInit) => Promise<FetchResponse>} Fetch What of fetch is used. */

/**
 * @typedef {object} ApiOptions
 * @property {string} baseUrl where the API answers, without a trailing slash
 * @property {Fetch} fetch
 * @property {() => number} now the time in milliseconds since the epoch
 * @property {Timers} timers
 */

/** How long a call may take before it counts as unanswered. */
export const TIMEOUT_MS = 30000;

/**
 * The error of an answer's body, keeping only fields of the expected types.
 *
 * @param {unknown} data
 * @returns {ApiError | null}
 */
function errorOf(data) {
  const body = /** @type {{ error?: unknown } | null} */ (
    data && typeof data === "object" ? data : null
  );
  const error = /** @type {Record<string, unknown> | null} */ (
    body && body.error && typeof body.error === "object" ? body.error : null
  );
  if (!error) return null;
  /** @type {ApiError} */
  const found = {};
  if (typeof error.code === "string") found.code = error.code;
  if (typeof error.message === "string") found.message = error.message;
  if (typeof error.requestId === "string") found.requestId = error.requestId;
  return found;
}

/**
 * Whole seconds to wait: the Retry-After header (seconds, or an HTTP date), else the body's
 * `error.retryAfter`; null when neither says a second or more.
 *
 * @param {string | null} header
 * @param {unknown} data
 * @param {number} now
 */
function retryAfterOf(header, data, now) {
  const value = (header || "").trim();
  let wait = /^\d+$/.test(value) ? Number(value) : Math.ceil((Date.parse(value) - now) / 1000);
  if (!(wait >= 1)) {
    const error = data && typeof data === "object" ? Reflect.get(data, "error") : null;
    wait = Number(error && typeof error === "object" ? Reflect.get(error, "retryAfter") : NaN);
  }
  return wait >= 1 ? Math.ceil(wait) : null;
}

/**
 * The reply of a call that got no answer.
 *
 * @param {boolean} timedOut
 * @returns {Reply<never>}
 */
export function unanswered(timedOut) {
  return { status: 0, ok: false, data: null, error: null, retryAfter: null, timedOut };
}

/**
 * The calls of one client to the API at `baseUrl`.
 *
 * @param {ApiOptions} options
 */
export function createApi({ baseUrl, fetch: fetchApi, now, timers }) {
  /**
   * Sends `method` to `path`, with `body` as JSON and `accessToken` as the bearer token when
   * given. Never throws.
   *
   * @template [T=unknown]
   * @param {string} method
   * @param {string} path
   * @param {{ body?: unknown, accessToken?: string }} [extras]
   * @returns {Promise<Reply<T>>}
   */
  async function request(method, path, { body, accessToken } = {}) {
    const controller = new AbortController();
    const timer = timers.setTimeout(() => controller.abort(), TIMEOUT_MS);
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
    try {
      const response = await fetchApi(baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // The bearer token is the only credential: no cookie goes along, nothing is cached,
        // and the page's address (which may carry a link's token) is not sent.
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
        error: errorOf(data),
        retryAfter: retryAfterOf(response.headers.get("Retry-After"), data, now()),
        timedOut: false,
      };
    } catch {
      return unanswered(controller.signal.aborted);
    } finally {
      timers.clearTimeout(timer);
    }
  }

  /**
   * POSTs `body` as JSON to `path`.
   *
   * @template [T=unknown]
   * @param {string} path
   * @param {unknown} body
   * @returns {Promise<Reply<T>>}
   */
  const post = (path, body) => request("POST", path, { body });

  return { request, post };
}

/** @typedef {ReturnType<typeof createApi>} Api */

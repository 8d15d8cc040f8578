// @ts-check
// Sessions: the account's live sessions (one per sign-in), ending one, and logging out here or
// everywhere. The list is fetched with the session's access token, refreshed when it is due.

import { $, client, formatTime, showFailure, showMessage } from "../page.js";
import { plural } from "../messages.js";

/** @import { Authorized, EndedAnswer, Session, SessionEntry, SessionsAnswer } from "../client.js" */

/**
 * A short description of a session's browser, e.g. "Firefox on Windows"; the string itself when
 * it names no browser known here.
 *
 * @param {unknown} agent
 */
function describeAgent(agent) {
  if (typeof agent !== "string" || !agent.trim()) return "An unknown browser or program";
  /** @type {Array<[RegExp, string]>} */
  const browsers = [
    [/Edg\//, "Edge"],
    [/OPR\//, "Opera"],
    [/Firefox\//, "Firefox"],
    [/Chrom(e|ium)\//, "Chrome"],
    [/Safari\//, "Safari"],
  ];
  /** @type {Array<[RegExp, string]>} */
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

/** @param {string} iso */
function timeElement(iso) {
  const time = document.createElement("time");
  time.dateTime = iso;
  time.textContent = formatTime(iso);
  return time;
}

const list = $("sessions");

/** @param {boolean} on */
function busy(on) {
  for (const button of document.querySelectorAll("#signed-in button")) {
    /** @type {HTMLButtonElement} */ (button).disabled = on;
  }
  if (on) list.setAttribute("aria-busy", "true");
  else list.removeAttribute("aria-busy");
}

let shown = client.readSession();
let leaving = false; // a logout of this page's own is under way

/** @param {Session | null} session */
function render(session) {
  shown = session;
  $("signed-in").hidden = !session;
  $("signed-out").hidden = Boolean(session);
  if (session) $("session-email").textContent = session.email;
  else list.replaceChildren();
}

// The session is gone: refreshing it was refused, or another tab logged out.
function ended() {
  render(null);
  showMessage("error", "Your session has ended. Sign in again to see your sessions.");
}

/** @param {SessionEntry} entry */
function item(entry) {
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
}

async function load() {
  busy(true);
  showMessage("pending", "Loading your sessions…");
  /** @type {Authorized<SessionsAnswer>} */
  const { reply, ended: over } = await client.authorized("GET", "/sessions");
  busy(false);
  if (over) return ended();
  const sessions = reply.ok && reply.data ? reply.data.sessions : null;
  if (!Array.isArray(sessions)) {
    if (reply.ok) {
      showMessage(
        "error",
        "The sessions could not be listed: the service gave an unexpected answer."
      );
    } else {
      showFailure(reply, "The sessions could not be listed");
    }
    return;
  }
  list.replaceChildren(...sessions.map(item));
  const n = sessions.length;
  showMessage("ok", `${plural(n, "session")} of this account ${n === 1 ? "is" : "are"} live.`);
}

/**
 * @param {HTMLElement} li
 * @param {string} id
 */
async function endOne(li, id) {
  busy(true);
  showMessage("pending", "Ending the session…");
  /** @type {Authorized<EndedAnswer>} */
  const { reply, ended: over } = await client.authorized(
    "DELETE",
    `/sessions/${encodeURIComponent(id)}`
  );
  busy(false);
  if (over) return ended();
  if (reply.ok && reply.data && reply.data.ended === true) {
    li.remove();
    showMessage("ok", "The session has ended: it can no longer be refreshed.");
  } else if (reply.status === 404) {
    li.remove();
    showMessage("ok", "That session had already ended.");
  } else if (reply.ok) {
    showMessage("error", "The session was not ended: the service gave an unexpected answer.");
  } else {
    showFailure(reply, "The session was not ended");
  }
}

/** @param {boolean} everywhere */
async function leave(everywhere) {
  busy(true);
  showMessage("pending", everywhere ? "Logging out everywhere…" : "Logging out…");
  leaving = true;
  const failed = await client.logout(everywhere);
  leaving = false;
  busy(false);
  if (failed) {
    showFailure(failed, "You are still signed in");
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

client.onSession((session) => {
  if (leaving) return;
  if (!session && shown) ended();
  else if (session) render(session);
});
$("reload").addEventListener("click", load);
$("logout-here").addEventListener("click", () => leave(false));
$("logout-everywhere").addEventListener("click", () => leave(true));
render(shown);
if (shown) load();

// @ts-check
// Sign in: logs in with an address and a password, with the device token an earlier login of the
// address got in this browser, and keeps the session, which every page then refreshes.

import { $, address, client, formatTime, typed, wireForm } from "../page.js";

/** @import { LoginAnswer } from "../client.js" */
/** @import { Sent } from "../page.js" */

wireForm({
  path: "/login",
  answer: "login",
  pending: "Signing in…",
  refused: "You are not signed in",
  hints: {
    UserNotVerified: "Open the link in the verification mail first.",
  },
  body: () => {
    const email = address("email");
    /** @type {Sent} */
    const body = { email, password: typed("password") };
    const device = client.deviceToken(email);
    if (device) body.deviceToken = device;
    return body;
  },
  success: (sent) => `Signed in as ${sent.email}.`,
  after: (sent, /** @type {LoginAnswer} */ data) => {
    const session = client.sessionFrom(sent.email, data);
    if (typeof data.deviceToken === "string") client.storeDeviceToken(sent.email, data.deviceToken);
    client.startSession(session);
    $("identity-id").textContent = data.identityId;
    const expiresAt = /** @type {HTMLTimeElement} */ ($("expires-at"));
    expiresAt.textContent = formatTime(session.expiresAt);
    expiresAt.dateTime = session.expiresAt;
    $("result").hidden = false;
  },
});

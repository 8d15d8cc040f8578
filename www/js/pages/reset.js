// @ts-check
// Reset: chooses a new password with the link of the reset mail (#email=…&lost=…, or the same in
// the query). Opening the page sends nothing; only the button uses the link. The service ends
// every session of the account and forgets its devices but this one, whose new device token the
// answer carries: this browser forgets its session and keeps that token.

import { client, typed, wireForm } from "../page.js";

wireForm({
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
  after: (sent, /** @type {{ deviceToken?: unknown }} */ data) => {
    client.forgetAccount(sent.email);
    if (typeof data.deviceToken === "string") client.storeDeviceToken(sent.email, data.deviceToken);
  },
});

// @ts-check
// Home: who is signed in in this browser, with a button to sign out here.

import { $, client, formatTime, showFailure, showMessage } from "../page.js";

const signOut = /** @type {HTMLButtonElement} */ ($("sign-out"));

function render() {
  const session = client.readSession();
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
}

// Shown as it is now in storage, whatever tab changed it.
client.onSession(render);

signOut.addEventListener("click", async () => {
  signOut.disabled = true;
  showMessage("pending", "Signing out…");
  const failed = await client.logout(false);
  signOut.disabled = false;
  if (failed) {
    showFailure(failed, "You are still signed in");
    return;
  }
  showMessage("ok", "You are signed out in this browser.");
  render();
  $("signed-out").focus();
});

render();

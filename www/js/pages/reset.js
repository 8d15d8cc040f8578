// @ts-check
// Reset: chooses a new password with the link of the reset mail (#email=…&lost=…, or the same in
// the query). Opening the page sends nothing; only the button uses the link. The service ends
// every session of the account, so this browser forgets its own and the address's device token.

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
  after: (sent) => client.forgetAccount(sent.email),
});

// @ts-check
// Change password: sets a new password by proving the current one. The service ends every
// session of the account, so this browser forgets its own and the address's device token.

import { address, client, input, typed, wireForm } from "../page.js";

// The address of the session this browser keeps, unless the browser filled one in already.
const session = client.readSession();
if (session && !input("email").value) input("email").value = session.email;

wireForm({
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
  after: (sent) => client.forgetAccount(sent.email),
});

// @ts-check
// Change password: sets a new password by proving the current one, from this browser's device
// token of the address when it has one (so a stranger's failures cannot hold it out). The
// service ends every session of the account and forgets every device but this one: this browser
// forgets its session and keeps its device token.

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
  body: () => {
    const email = address("email");
    /** @type {import("../page.js").Sent} */
    const body = { email, oldPassword: typed("old-password"), newPassword: typed("new-password") };
    const device = client.deviceToken(email);
    if (device) body.deviceToken = device;
    return body;
  },
  success: (sent) =>
    `The password for ${sent.email} has been changed, and every session of the account has ended. Sign in again with the new password.`,
  after: (sent) => {
    const device = client.deviceToken(sent.email);
    client.forgetAccount(sent.email);
    if (device) client.storeDeviceToken(sent.email, device);
  },
});

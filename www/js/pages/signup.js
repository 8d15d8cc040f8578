// @ts-check
// Sign up: creates an account from an address and a password; the service mails a link to verify
// the address.

import { address, typed, wireForm } from "../page.js";

wireForm({
  path: "/users",
  answer: "created",
  pending: "Creating the account…",
  refused: "No account was created",
  confirm: ["password", "confirm"],
  body: () => ({ email: address("email"), password: typed("password") }),
  success: (sent) =>
    `Thank you. If this address can be registered, a verification mail is on its way to ${sent.email}. Open the link in it to finish signing up.`,
});

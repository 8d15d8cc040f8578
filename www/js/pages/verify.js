// @ts-check
// Verify: confirms an address with the link of the verification mail (#email=…&verify=…, or the
// same in the query). Opening the page sends nothing; only the button uses the link.

import { $, typed, wireForm } from "../page.js";

/** @import { Sent } from "../page.js" */

wireForm({
  path: "/users/verify",
  answer: "verified",
  pending: "Verifying the address…",
  refused: "The address was not verified",
  link: "verify",
  once: true,
  hints: {
    InvalidToken: "To get a new link, sign up again with the same address.",
    PasswordRequired:
      "This address was signed up more than once. Enter the password you chose when you signed up, then press the button again.",
    InvalidCredentials:
      "That is not the password of the signup this link was sent for. If you did not sign up before this mail came, this link is not yours: sign up again and use the link of your own signup.",
  },
  body: (link) => {
    /** @type {Sent} */
    const body = { email: link.email, verify: link.token };
    // The password is asked for only when the service needs it (an address signed up twice).
    if (!$("password-field").hidden) body.password = typed("password");
    return body;
  },
  refusedWith: (code) => {
    if (code === "PasswordRequired" || code === "InvalidCredentials") {
      $("password-field").hidden = false;
      $("password").focus();
    }
  },
  success: (sent) => `Thank you, ${sent.email} is verified. You can sign in now.`,
});

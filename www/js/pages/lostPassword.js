// @ts-check
// Lost password: asks for a mail with a link to choose a new password. The answer is the same
// whether the address has an account or not.

import { address, wireForm } from "../page.js";

wireForm({
  path: "/password/lost",
  answer: "sent",
  pending: "Asking for a reset link…",
  refused: "No reset link was sent",
  body: () => ({ email: address("email") }),
  success: (sent) =>
    `If an account exists for ${sent.email}, a mail with a link to choose a new password is on its way. The link works once and only for a limited time.`,
});

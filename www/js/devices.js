// @ts-check
// The device token of each address signed in from this browser. It outlives logouts (it is what
// tells the service this browser is the owner's, so that failures from elsewhere do not lock it
// out) and ends with a password change or reset.

/** @import { Store } from "./browser.js" */

/** Where the device token of each address signed in from this browser is kept. */
export const DEVICES_KEY = "lambdauth.devices";

/**
 * The key of `email` among the device tokens: addresses that differ only in case, in spaces
 * around them, or in the Unicode form of their characters are one.
 *
 * @param {string} email
 */
export const deviceKey = (email) => email.trim().normalize("NFC").toLowerCase();

/**
 * The device tokens kept in `storage`.
 *
 * @param {Store} storage
 */
export function createDeviceTokens(storage) {
  /** @returns {Record<string, unknown>} */
  function readDevices() {
    try {
      const devices = JSON.parse(storage.getItem(DEVICES_KEY) ?? "null");
      return devices && typeof devices === "object" && !Array.isArray(devices) ? devices : {};
    } catch {
      return {};
    }
  }

  /**
   * The device token an earlier login of `email` got in this browser, if any.
   *
   * @param {string} email
   * @returns {string | null}
   */
  function deviceToken(email) {
    const devices = readDevices();
    const key = deviceKey(email);
    const token = Object.hasOwn(devices, key) ? devices[key] : null;
    return typeof token === "string" ? token : null;
  }

  /**
   * Keeps `token` as the device token of `email`; null forgets it.
   *
   * @param {string} email
   * @param {string | null} token
   */
  function storeDeviceToken(email, token) {
    const devices = readDevices();
    if (token === null) delete devices[deviceKey(email)];
    else devices[deviceKey(email)] = token;
    try {
      storage.setItem(DEVICES_KEY, JSON.stringify(devices));
    } catch {
      // Without storage every login counts as one from an unknown device.
    }
  }

  return { deviceToken, storeDeviceToken };
}

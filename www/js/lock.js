// @ts-check
// A task run under a Web Lock, so that the tabs of one browser take turns at it, and never hang
// on a lock that is stuck.

/** @import { Locks, Timers } from "./browser.js" */

/** The lock was not granted within the wait: another tab holds it, or it is stuck. */
export class LockTimeoutError extends Error {
  /** @param {string} name */
  constructor(name) {
    super(`The lock ${name} was not granted in time.`);
    this.name = "LockTimeoutError";
  }
}

/**
 * Runs `task` holding the Web Lock `name`, so that no other tab of this browser runs a task under
 * the same name meanwhile; `task` is told whether it had to wait for another holder. Without a
 * lock manager (an insecure context, an old browser), or when it refuses the request itself, the
 * task runs at once: one tab still works. A lock not granted within `waitMs` rejects with
 * LockTimeoutError, and the task never runs.
 *
 * @template T
 * @param {Locks | null} locks
 * @param {string} name
 * @param {number} waitMs
 * @param {Timers} timers
 * @param {(waited: boolean) => Promise<T>} task
 * @returns {Promise<T>}
 */
export async function withLock(locks, name, waitMs, timers, task) {
  if (!locks) return task(false);
  const busy = Symbol("busy");
  let granted = false;
  /** @type {T | typeof busy} */
  let free;
  try {
    free = await locks.request(name, { mode: "exclusive", ifAvailable: true }, (lock) => {
      if (!lock) return Promise.resolve(busy);
      granted = true;
      return task(false);
    });
  } catch (error) {
    if (granted) throw error; // the task's own failure, not the lock's
    return task(false);
  }
  if (free !== busy) return free;

  const giveUp = new AbortController();
  const timer = timers.setTimeout(() => giveUp.abort(), waitMs);
  try {
    return await locks.request(name, { mode: "exclusive", signal: giveUp.signal }, () => {
      granted = true;
      timers.clearTimeout(timer);
      return task(true);
    });
  } catch (error) {
    if (granted) throw error;
    if (giveUp.signal.aborted) throw new LockTimeoutError(name);
    return task(true);
  } finally {
    timers.clearTimeout(timer);
  }
}

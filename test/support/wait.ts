// The one way tests wait: poll a condition until it holds or a deadline passes, then fail with a
// message that names what never came, the last thing seen, and whatever context helps (node log
// tails). Deadlines are generous for a loaded 2-core machine but always bounded.

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

export interface WaitOptions {
  /** Milliseconds before giving up. */
  timeoutMs: number;
  /** Milliseconds between polls (default 50). */
  everyMs?: number;
  /** Appended to the timeout error, e.g. node log tails. */
  context?: () => string;
}

type Falsy = null | false | undefined | 0 | '';

/** Thrown by a polled condition to stop waiting at once: what it waits for can no longer come
 *  (the process exited, its port was taken). Every other error counts as "not yet". */
export class GiveUp extends Error {}

/** Polls `fn` until it returns something truthy and returns that. An error thrown by `fn` counts as
 *  "not yet" (a node still starting refuses connections) and is reported if the deadline passes;
 *  a GiveUp error ends the wait at once.
 *  `what` may be a function, evaluated at the deadline, to describe the last state seen. */
export async function waitUntil<T>(
  what: string | (() => string),
  fn: () => T | Falsy | Promise<T | Falsy>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      lastError = undefined; // the latest poll ran without error: an earlier one is no news
    } catch (e) {
      if (e instanceof GiveUp) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const name = typeof what === 'function' ? what() : what;
      const why = lastError === undefined ? '' : `\nlast error: ${describeError(lastError)}`;
      const context = options.context ? `\n${options.context()}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${name}${why}${context}`);
    }
    await sleep(options.everyMs ?? 50);
  }
}

/** An error's message with its cause (fetch puts the useful part, e.g. ECONNREFUSED, there). */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  return `${e.message}${cause}`;
}

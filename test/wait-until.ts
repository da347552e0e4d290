/**
 * Waits on a condition instead of a fixed sleep: polls `check` every 50 ms (running `tick` between polls, e.g. to
 * drain a flusher) and fails with what it waited for after `timeoutMs`.
 */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  tick?: () => Promise<void>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await tick?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}

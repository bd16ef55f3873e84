/**
 * A test hook for the main-loop supervision (tick-wire.ts): blockMainThread() busy-waits on the
 * calling thread, so no timer, socket or e-stop can be served meanwhile. installStallHook() binds
 * it to SIGUSR2, only when SPINAL_TEST_HOOKS=1 (for a daemon run as `spinal edge` in a child
 * process); the stall lasts SPINAL_TEST_STALL_MS (default 1000 ms).
 */
export function blockMainThread(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* the stall */ }
}

export function installStallHook(env: NodeJS.ProcessEnv, log: (msg: string) => void): boolean {
  if (env.SPINAL_TEST_HOOKS !== '1') return false;
  const ms = Number(env.SPINAL_TEST_STALL_MS ?? 1000);
  if (!(ms > 0 && ms <= 60_000)) throw new RangeError(`SPINAL_TEST_STALL_MS=${String(env.SPINAL_TEST_STALL_MS)} must be within 1..60000`);
  process.on('SIGUSR2', () => {
    log(`test hook: blocking the main thread for ${ms} ms`);
    blockMainThread(ms);
  });
  return true;
}

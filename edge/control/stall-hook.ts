/**
 * A test hook, installed only when SPINAL_TEST_HOOKS=1: SIGUSR2 blocks the main thread in a busy
 * loop for SPINAL_TEST_STALL_MS (default 1000 ms), so end-to-end tests can check what the tick
 * thread does while the main event loop cannot run (it holds the robot; see tick-wire.ts).
 */
export function installStallHook(env: NodeJS.ProcessEnv, log: (msg: string) => void): boolean {
  if (env.SPINAL_TEST_HOOKS !== '1') return false;
  const ms = Number(env.SPINAL_TEST_STALL_MS ?? 1000);
  if (!(ms > 0 && ms <= 60_000)) throw new RangeError(`SPINAL_TEST_STALL_MS=${String(env.SPINAL_TEST_STALL_MS)} must be within 1..60000`);
  process.on('SIGUSR2', () => {
    log(`test hook: blocking the main thread for ${ms} ms`);
    const end = performance.now() + ms;
    while (performance.now() < end) { /* the stall */ }
  });
  return true;
}

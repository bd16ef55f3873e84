/**
 * The `systemd` section of the edge configuration (merge into EdgeConfigSchema as
 * `systemd: SystemdConfigSchema.default({})`); parseEdgeConfig's formatting names every key.
 * The watchdog period itself comes from systemd (WATCHDOG_USEC, set by WatchdogSec= in the unit);
 * the daemon is healthy while the control loop's tick count advances between two watchdog checks.
 */
import { z } from 'zod';

export const SystemdConfigSchema = z.strictObject({
  /** A prebuilt sd_notify relay; default: the one the package's install script built. Refused
   * when it, or a directory above it, can be written by anyone but root or the daemon's user. */
  notifyHelper: z.string().startsWith('/', 'must be an absolute path').optional(),
  /** Time for the controlled stop (wire stop + cleanup) after SIGTERM. */
  stopTimeoutMs: z.number().int().min(100).max(60_000).default(3000),
});

export type SystemdConfig = z.infer<typeof SystemdConfigSchema>;

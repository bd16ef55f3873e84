/**
 * The `mqtt` section of the edge configuration (merge into EdgeConfigSchema as
 * `mqtt: MqttConfigSchema.optional()`); parseEdgeConfig's error formatting names every key.
 * The robot's username is its robot id (robot.id); the fleet names the topic tree.
 */
import { z } from 'zod';

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 letters, digits, "_" or "-", starting with a letter or digit');

export const MqttConfigSchema = z.strictObject({
  /** `mqtt://host:port`; the embedded broker when `embedded` is set. */
  url: z.string().regex(/^mqtt:\/\/[^/\s]+$/, 'must be mqtt://host:port').default('mqtt://127.0.0.1:1883'),
  fleet: Name,
  /** Read from a file so the secret stays out of the config (systemd LoadCredential= fits). */
  passwordFile: z.string().min(1).optional(),
  telemetryHz: z.number().min(10).max(50).default(20),
  keepaliveS: z.number().int().min(1).max(300).default(5),
  reconnectMs: z.number().int().min(50).max(60_000).default(500),
  /** Operators allowed to reset and resume this robot, on top of the broker's ACL; empty: any operator. */
  operators: z.array(Name).default([]),
  /**
   * The remote e-stop channel fails safe: a broker connection down (or not yet up) for this long
   * stops a robot that is ACTIVE or HOLD, as a wireless e-stop receiver stops when its link drops.
   */
  linkLossTimeoutMs: z.number().int().min(50).max(60_000).default(500),
  /** Stop category for that loss: 2 (default) holds position with the drives powered; 1 ramps down then cuts power; 0 cuts power. */
  linkLossCategory: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(2),
  /** A reset or resume older (or further in the future) than this is refused; 0 disables. */
  resetMaxAgeMs: z.number().int().min(0).max(3_600_000).default(30_000),
  /** Start aedes in-process on this port (default set-up: demo, a single robot). */
  embedded: z.strictObject({
    port: z.number().int().min(0).max(65535).default(1883),
    host: z.string().min(1).default('127.0.0.1'),
    /** JSON FleetAccounts {fleet, robots:[{id,password}], operators:[{name,password}], viewers:[...]}. */
    accountsFile: z.string().min(1),
  }).optional(),
});

export type MqttConfig = z.infer<typeof MqttConfigSchema>;

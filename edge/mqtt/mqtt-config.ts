/**
 * The `mqtt` section of the edge configuration (merge into EdgeConfigSchema as
 * `mqtt: MqttConfigSchema.optional()`); parseEdgeConfig's error formatting names every key.
 * The robot's username is its robot id (robot.id); the fleet names the topic tree.
 */
import { z } from 'zod';
import { isLoopbackHost } from '../../proto/security/loopback.js';

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 letters, digits, "_" or "-", starting with a letter or digit');

export const MqttConfigSchema = z.strictObject({
  /** `mqtts://host:port`, or `mqtt://host:port` to a loopback broker; the embedded broker when `embedded` is set. */
  url: z.string().regex(/^mqtts?:\/\/[^/\s]+$/, 'must be mqtts://host:port or mqtt://host:port').default('mqtt://127.0.0.1:1883'),
  /** TLS to the broker (PEM files): the CA that signs the broker's certificate, and this robot's client certificate and key. */
  tls: z.strictObject({
    caFile: z.string().min(1),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
  }).refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), 'certFile and keyFile go together').optional(),
  /** Plaintext mqtt:// to a broker off loopback is refused unless this is true (a network you trust completely). */
  allowPlaintext: z.boolean().default(false),
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
    /** TLS for the embedded broker's listener (PEM files); caFile also lets robots log in by certificate. */
    tls: z.strictObject({
      certFile: z.string().min(1),
      keyFile: z.string().min(1),
      caFile: z.string().min(1).optional(),
      requireCertificate: z.boolean().default(false),
      useIdentityAsUsername: z.boolean().default(false),
    }).optional(),
    /** Listen in plaintext on a non-loopback host. */
    allowPlaintext: z.boolean().default(false),
    /** The key file shared with the dashboard that mints broker tokens for browsers. */
    tokenKeyFile: z.string().min(1).optional(),
  }).optional(),
}).superRefine((c, ctx) => {
  // Plaintext only on loopback unless said otherwise: refused here so the error names the key.
  const host = /^mqtt:\/\/(\[[^\]]+\]|[^:/]+)/.exec(c.url)?.[1];
  if (host !== undefined && !c.allowPlaintext && !isLoopbackHost(host) && c.embedded === undefined) {
    ctx.addIssue({ code: 'custom', path: ['url'], message: `${JSON.stringify(c.url)} is plaintext to a broker off loopback: use mqtts:// with mqtt.tls, or set mqtt.allowPlaintext to true` });
  }
  if (c.url.startsWith('mqtt://') && c.tls !== undefined) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'is set but mqtt.url is plaintext mqtt://: use mqtts://' });
  const e = c.embedded;
  if (e && e.tls === undefined && !e.allowPlaintext && !isLoopbackHost(e.host)) {
    ctx.addIssue({ code: 'custom', path: ['embedded', 'host'], message: `${JSON.stringify(e.host)} is not loopback: give mqtt.embedded.tls, or set mqtt.embedded.allowPlaintext to true` });
  }
  if (e?.tls && (e.tls.requireCertificate || e.tls.useIdentityAsUsername) && e.tls.caFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['embedded', 'tls', 'caFile'], message: 'is needed by requireCertificate and useIdentityAsUsername' });
  }
});

export type MqttConfig = z.infer<typeof MqttConfigSchema>;

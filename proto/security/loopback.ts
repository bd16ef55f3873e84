/** Plaintext is allowed only on a loopback address (the embedded defaults): gRPC, MQTT, the dashboard. */
import { isIP } from 'node:net';

/** True for localhost, 127.0.0.0/8, ::1 (and ::ffff:127.x). A wildcard (0.0.0.0, ::) is not loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === 'ip6-localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Null when a plaintext listener on `host` is acceptable, else the reason to refuse to start;
 * `remedy` says what to configure instead (it names the caller's own keys).
 */
export function plaintextRefusal(host: string, remedy = 'configure tls (certFile, keyFile, caFile) to listen on other addresses'): string | null {
  if (isLoopbackHost(host)) return null;
  return `refusing to listen in plaintext on "${host}": plaintext is allowed only on a loopback address ` +
    `(127.0.0.1, ::1, localhost); ${remedy}`;
}

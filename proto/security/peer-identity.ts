/**
 * Who is at the other end of a TLS connection, from its verified client certificate: a SAN URI
 * spiffe://spinal/robot/<id> or spiffe://spinal/operator/<name> when present (preferred), else
 * the subject CN (a robot id, or "operator:<name>"). Pure functions over the certificate fields
 * Node reports; the TLS layer has already checked the chain against the configured CA.
 */
import type { PeerCertificate } from 'node:tls';

export const SPIFFE_TRUST_DOMAIN = 'spinal';
export const ROBOT_URI_PREFIX = `spiffe://${SPIFFE_TRUST_DOMAIN}/robot/`;
export const OPERATOR_URI_PREFIX = `spiffe://${SPIFFE_TRUST_DOMAIN}/operator/`;
export const OPERATOR_CN_PREFIX = 'operator:';

export type PeerIdentity =
  | { kind: 'robot'; id: string; from: 'san-uri' | 'cn' }
  | { kind: 'operator'; id: string; from: 'san-uri' | 'cn' };

/** The URIs of a subjectaltname string such as "DNS:a, URI:spiffe://spinal/robot/r1". */
export function sanUris(subjectaltname: string | undefined): string[] {
  if (subjectaltname === undefined || subjectaltname === '') return [];
  return subjectaltname.split(/,\s*/).filter((p) => p.startsWith('URI:')).map((p) => p.slice(4));
}

/** The identity a certificate carries, or null when it carries none we recognise. */
export function identityFromCertificate(cert: Pick<PeerCertificate, 'subject' | 'subjectaltname'> | undefined): PeerIdentity | null {
  if (cert === undefined) return null;
  for (const uri of sanUris(cert.subjectaltname)) {
    if (uri.startsWith(ROBOT_URI_PREFIX) && uri.length > ROBOT_URI_PREFIX.length) {
      return { kind: 'robot', id: decodeURIComponent(uri.slice(ROBOT_URI_PREFIX.length)), from: 'san-uri' };
    }
    if (uri.startsWith(OPERATOR_URI_PREFIX) && uri.length > OPERATOR_URI_PREFIX.length) {
      return { kind: 'operator', id: decodeURIComponent(uri.slice(OPERATOR_URI_PREFIX.length)), from: 'san-uri' };
    }
  }
  const cnField = (cert.subject as Record<string, string | string[] | undefined> | undefined)?.['CN'];
  const cn = Array.isArray(cnField) ? cnField[0] : cnField;
  if (cn === undefined || cn === '') return null;
  if (cn.startsWith(OPERATOR_CN_PREFIX)) return { kind: 'operator', id: cn.slice(OPERATOR_CN_PREFIX.length), from: 'cn' };
  return { kind: 'robot', id: cn, from: 'cn' };
}

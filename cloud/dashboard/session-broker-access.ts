/**
 * How a dashboard session gets into the broker without the page holding a password. Two ways,
 * one per broker kind: signed tokens the embedded broker checks (broker-credentials.ts), or a
 * client of its own that the dashboard adds to Mosquitto's dynamic security plugin
 * (dynsec-sessions.ts). Either way the credential dies with the session: at logout (close) and
 * when the session expires.
 */
import type { Session } from './sessions.js';

export interface BrokerCredential {
  username: string;
  password: string;
  /** Until when the credential may be used to connect (ms since the epoch). */
  expiresAt: number;
}

export interface SessionBrokerAccess {
  /** After a login, before the page learns of it; a rejection fails the login. */
  open(s: Session): Promise<void>;
  /** The page asks before every broker connection. */
  credential(s: Session): BrokerCredential;
  /** At logout: once it resolves, the session's credential no longer connects and its connections are gone. */
  close(s: Session): Promise<void>;
  /** The dashboard is stopping. */
  stop(): Promise<void>;
}

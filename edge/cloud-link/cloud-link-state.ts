/**
 * States of the cloud link and the legal moves between them (like ../serial/link-state.ts).
 * Every transition names the states it expects to leave; an illegal move is a programming error
 * and throws.
 *
 *   IDLE ─start→ CONNECTING ─channel ready→ HELLO ─Welcome (same major)→ ACTIVE
 *   CONNECTING | HELLO | ACTIVE ─loss, timeout, stream end→ BACKOFF ─timer→ CONNECTING
 *   HELLO | ACTIVE ─brain refused (unknown robot, identity, incompatible), other major→ INCOMPATIBLE
 *   INCOMPATIBLE ─timer (the backoff's maximum delay)→ CONNECTING
 *   any ─close()→ CLOSED (terminal)
 *
 * INCOMPATIBLE is held (not passed through to BACKOFF) while the link waits to retry, so that
 * `state` tells an operator the brain refused this robot rather than that the network is down.
 */
import { GuardedStateMachine, IllegalTransitionError } from '../guarded-state-machine.js';

export const CloudLinkState = {
  IDLE: 'IDLE',
  CONNECTING: 'CONNECTING',
  HELLO: 'HELLO',
  ACTIVE: 'ACTIVE',
  BACKOFF: 'BACKOFF',
  INCOMPATIBLE: 'INCOMPATIBLE',
  CLOSED: 'CLOSED',
} as const;
export type CloudLinkState = (typeof CloudLinkState)[keyof typeof CloudLinkState];

const S = CloudLinkState;
const LEGAL: Record<CloudLinkState, readonly CloudLinkState[]> = {
  IDLE: [S.CONNECTING, S.CLOSED],
  CONNECTING: [S.HELLO, S.BACKOFF, S.CLOSED],
  HELLO: [S.ACTIVE, S.INCOMPATIBLE, S.BACKOFF, S.CLOSED],
  ACTIVE: [S.BACKOFF, S.INCOMPATIBLE, S.CLOSED],
  BACKOFF: [S.CONNECTING, S.CLOSED],
  INCOMPATIBLE: [S.CONNECTING, S.CLOSED],
  CLOSED: [],
};

/** States in which a gRPC call (stream) exists. */
export function hasStream(s: CloudLinkState): boolean {
  return s === S.HELLO || s === S.ACTIVE;
}

export class IllegalCloudTransitionError extends IllegalTransitionError {
  override readonly name: string = 'IllegalCloudTransitionError';
}

export class CloudLinkStateMachine extends GuardedStateMachine<CloudLinkState> {
  constructor(onTransition: (from: CloudLinkState, to: CloudLinkState) => void) {
    super('cloud link', S.IDLE, LEGAL, onTransition, (m) => new IllegalCloudTransitionError(m));
  }
}

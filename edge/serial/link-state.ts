/**
 * States of the serial link and the legal moves between them. Every transition names
 * the states it expects to leave, like grpc-js's transitionToState(oldStates, newState); a move
 * that is not legal is a programming error and throws.
 *
 *   IDLE ─start→ OPENING ─open→ HANDSHAKE ─HELLO ok→ CONFIGURING ─ACK ok→ READY
 *   OPENING | HANDSHAKE | CONFIGURING | READY ─loss, timeout, open failure→ BACKOFF ─timer→ OPENING
 *   HANDSHAKE | CONFIGURING ─peer refused→ INCOMPATIBLE → BACKOFF (at the maximum delay)
 *   CONFIGURING | READY ─MCU sent a new HELLO (it restarted)→ HANDSHAKE
 *   any ─stop()→ CLOSED (terminal)
 */
import { GuardedStateMachine, IllegalTransitionError } from '../guarded-state-machine.js';

export const LinkState = {
  IDLE: 'IDLE',
  OPENING: 'OPENING',
  HANDSHAKE: 'HANDSHAKE',
  CONFIGURING: 'CONFIGURING',
  READY: 'READY',
  BACKOFF: 'BACKOFF',
  INCOMPATIBLE: 'INCOMPATIBLE',
  CLOSED: 'CLOSED',
} as const;
export type LinkState = (typeof LinkState)[keyof typeof LinkState];

const S = LinkState;
const LEGAL: Record<LinkState, readonly LinkState[]> = {
  IDLE: [S.OPENING, S.CLOSED],
  OPENING: [S.HANDSHAKE, S.BACKOFF, S.CLOSED],
  HANDSHAKE: [S.CONFIGURING, S.INCOMPATIBLE, S.BACKOFF, S.CLOSED],
  CONFIGURING: [S.READY, S.HANDSHAKE, S.INCOMPATIBLE, S.BACKOFF, S.CLOSED],
  READY: [S.HANDSHAKE, S.BACKOFF, S.CLOSED],
  BACKOFF: [S.OPENING, S.CLOSED],
  INCOMPATIBLE: [S.BACKOFF, S.CLOSED],
  CLOSED: [],
};

/** States in which the port is open and frames may be written. */
export function isPortOpenState(s: LinkState): boolean {
  return s === S.HANDSHAKE || s === S.CONFIGURING || s === S.READY;
}

export { IllegalTransitionError };

export class LinkStateMachine extends GuardedStateMachine<LinkState> {
  constructor(onTransition: (from: LinkState, to: LinkState) => void) {
    super('link', S.IDLE, LEGAL, onTransition);
  }
}

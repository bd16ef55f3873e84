/**
 * States of the serial link and the legal moves between them (Habit 6). Every transition names
 * the states it expects to leave, like grpc-js's transitionToState(oldStates, newState); a move
 * that is not legal is a programming error and throws.
 *
 *   IDLE ─start→ OPENING ─open→ HANDSHAKE ─HELLO ok→ CONFIGURING ─ACK ok→ READY
 *   OPENING | HANDSHAKE | CONFIGURING | READY ─loss, timeout, open failure→ BACKOFF ─timer→ OPENING
 *   HANDSHAKE | CONFIGURING ─peer refused→ INCOMPATIBLE → BACKOFF (at the maximum delay)
 *   CONFIGURING | READY ─MCU sent a new HELLO (it restarted)→ HANDSHAKE
 *   any ─stop()→ CLOSED (terminal)
 */
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

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
}

export class LinkStateMachine {
  private current: LinkState = S.IDLE;
  private readonly onTransition: (from: LinkState, to: LinkState) => void;

  constructor(onTransition: (from: LinkState, to: LinkState) => void) {
    this.onTransition = onTransition;
  }

  get state(): LinkState {
    return this.current;
  }

  is(...states: LinkState[]): boolean {
    return states.includes(this.current);
  }

  /**
   * Moves to `to` when the present state is one of `from` and the move is legal; throws
   * IllegalTransitionError otherwise. The listener runs after the state has changed.
   */
  transition(from: readonly LinkState[], to: LinkState): void {
    const cur = this.current;
    if (!from.includes(cur)) throw new IllegalTransitionError(`link transition to ${to} expected state ${from.join('|')}, but state is ${cur}`);
    if (!LEGAL[cur].includes(to)) throw new IllegalTransitionError(`link transition ${cur} -> ${to} is not legal`);
    this.current = to;
    this.onTransition(cur, to);
  }
}

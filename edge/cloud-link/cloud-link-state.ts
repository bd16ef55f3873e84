/**
 * States of the cloud link and the legal moves between them (Habit 6, like ../serial/link-state.ts).
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

export class IllegalCloudTransitionError extends Error {
  override readonly name = 'IllegalCloudTransitionError';
}

export class CloudLinkStateMachine {
  private current: CloudLinkState = S.IDLE;
  private readonly onTransition: (from: CloudLinkState, to: CloudLinkState) => void;

  constructor(onTransition: (from: CloudLinkState, to: CloudLinkState) => void) {
    this.onTransition = onTransition;
  }

  get state(): CloudLinkState {
    return this.current;
  }

  is(...states: CloudLinkState[]): boolean {
    return states.includes(this.current);
  }

  /** Moves to `to` when the present state is one of `from` and the move is legal; throws otherwise.
   * The listener runs after the state has changed. */
  transition(from: readonly CloudLinkState[], to: CloudLinkState): void {
    const cur = this.current;
    if (!from.includes(cur)) throw new IllegalCloudTransitionError(`cloud link transition to ${to} expected state ${from.join('|')}, but state is ${cur}`);
    if (!LEGAL[cur].includes(to)) throw new IllegalCloudTransitionError(`cloud link transition ${cur} -> ${to} is not legal`);
    this.current = to;
    this.onTransition(cur, to);
  }
}

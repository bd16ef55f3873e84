/**
 * A state machine that refuses illegal transitions (in the manner of grpc-js's
 * `transitionToState(oldStates, newState)`): a move names the states it expects to leave and must
 * be in the legal table; anything else is a programming error and throws. The listener runs after
 * the state has changed, so it always sees the new state. The serial link, the cloud link and the
 * safety supervisor each build one from their own table.
 */
export class IllegalTransitionError extends Error {
  override readonly name: string = 'IllegalTransitionError';
}

export class GuardedStateMachine<S extends string> {
  private current: S;

  constructor(
    private readonly what: string,
    initial: S,
    private readonly legal: Readonly<Record<S, readonly S[]>>,
    private readonly onTransition: (from: S, to: S) => void,
    private readonly makeError: (message: string) => IllegalTransitionError = (m) => new IllegalTransitionError(m),
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  is(...states: S[]): boolean {
    return states.includes(this.current);
  }

  /** Moves to `to` when the present state is one of `from` and the move is legal; throws otherwise. */
  transition(from: readonly S[], to: S): void {
    const cur = this.current;
    if (!from.includes(cur)) throw this.makeError(`${this.what} transition to ${to} expected state ${from.join('|')}, but state is ${cur}`);
    if (!this.legal[cur].includes(to)) throw this.makeError(`${this.what} transition ${cur} -> ${to} is not legal`);
    this.current = to;
    this.onTransition(cur, to);
  }
}

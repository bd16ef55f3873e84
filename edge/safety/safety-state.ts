/**
 * States of the safety supervisor and the legal moves between them. Like the serial
 * link's machine, every transition names the states it expects to leave; an illegal move is a
 * programming error and throws IllegalSafetyTransitionError.
 *
 *   BOOT ─link ready→ IDLE ─resume (fresh plan, safe, authorised)→ ACTIVE
 *   ACTIVE ─plan TTL, decoder failure, bad numbers, tilt warning, chunk exhausted→ HOLD
 *   HOLD ─new plan (plan / decoder / numbers causes), chunks again (chunk exhausted), resume→ ACTIVE
 *   ACTIVE | HOLD ─operator stop→ IDLE
 *   any but ESTOP ─stop source→ ESTOP          (latched)
 *   BOOT | IDLE | ACTIVE | HOLD ─MCU fault, control worker died→ FAULT   (latched)
 *   ESTOP | FAULT ─authorised reset while safe, MCU acknowledged→ IDLE
 *
 * Invariant: motion commands reach the wire only in ACTIVE; HOLD sends hold-position commands;
 * nothing but ESTOP, RESET and heartbeats is sent in BOOT, ESTOP and FAULT.
 */
import { GuardedStateMachine, IllegalTransitionError } from '../guarded-state-machine.js';

export const SafetyState = {
  BOOT: 'BOOT',
  IDLE: 'IDLE',
  ACTIVE: 'ACTIVE',
  HOLD: 'HOLD',
  ESTOP: 'ESTOP',
  FAULT: 'FAULT',
} as const;
export type SafetyState = (typeof SafetyState)[keyof typeof SafetyState];

const S = SafetyState;
const LEGAL: Record<SafetyState, readonly SafetyState[]> = {
  BOOT: [S.IDLE, S.ESTOP, S.FAULT],
  IDLE: [S.ACTIVE, S.ESTOP, S.FAULT],
  ACTIVE: [S.HOLD, S.IDLE, S.ESTOP, S.FAULT],
  HOLD: [S.ACTIVE, S.IDLE, S.ESTOP, S.FAULT],
  ESTOP: [S.IDLE],
  FAULT: [S.IDLE, S.ESTOP],
};

export class IllegalSafetyTransitionError extends IllegalTransitionError {
  override readonly name: string = 'IllegalSafetyTransitionError';
}

export class SafetyStateMachine extends GuardedStateMachine<SafetyState> {
  constructor(onTransition: (from: SafetyState, to: SafetyState) => void) {
    super('safety', S.BOOT, LEGAL, onTransition, (m) => new IllegalSafetyTransitionError(m));
  }
}

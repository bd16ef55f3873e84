/** The safety state as HEARTBEAT's host_state (SPEC.md, HEARTBEAT): BOOT is "unknown". */
import { HostState } from '../serial/shared-wire.js';
import { SafetyState } from './safety-state.js';

/** SafetyState by its host_state code. */
export const SAFETY_BY_CODE: readonly SafetyState[] = [SafetyState.BOOT, SafetyState.IDLE, SafetyState.ACTIVE, SafetyState.HOLD, SafetyState.ESTOP, SafetyState.FAULT];

export function hostStateOf(s: SafetyState): number {
  switch (s) {
    case SafetyState.IDLE: return HostState.IDLE;
    case SafetyState.ACTIVE: return HostState.ACTIVE;
    case SafetyState.HOLD: return HostState.HOLD;
    case SafetyState.ESTOP: return HostState.ESTOP;
    case SafetyState.FAULT: return HostState.FAULT;
    default: return HostState.UNKNOWN;
  }
}

/** Public API of the safety layer (edge/safety). */
export { SafetyState, SafetyStateMachine, IllegalSafetyTransitionError } from './safety-state.js';
export { SafetySupervisor, defaultAuthorise } from './safety-supervisor.js';
export type {
  EstopSentEvent, OperatorIdentity, RefusalEvent, RemoteEstopInput, SafetyActuator, SafetyCause, SafetyLogger, SafetySource,
  SafetySupervisorEvents, SafetySupervisorOptions, StopCategories, TransitionEvent,
} from './safety-types.js';
export { CommandLimiter, ClampFlag } from './command-limiter.js';
export { CommandGate, type ClampEvent, type CommandGateEvents, type CommandSink, type LastSent } from './command-gate.js';
export { bindSupervisor } from './supervisor-bindings.js';

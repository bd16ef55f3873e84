/** Inputs, causes and typed events of the safety supervisor. Events are data: a
 * `transition` names what moved the robot and who asked, for the log and for MQTT. */
import type { AckMsg } from '../../proto/wire/index.js';
import type { SafetyState } from './safety-state.js';

/** What moved the supervisor. */
export type SafetyCause =
  | 'link-ready' | 'link-lost'
  | 'remote-estop' | 'fleet-estop' | 'mcu-estop' | 'mcu-fault'
  | 'fall' | 'tilt-warning' | 'deadman-timeout' | 'mqtt-link-lost'
  | 'plan-expired' | 'decoder-failed' | 'bad-numbers' | 'chunk-exhausted'
  | 'control-failed' | 'control-stalled' | 'mcu-restarted' | 'impossible-state' | 'shutdown'
  | 'resume' | 'new-plan' | 'chunk-resumed' | 'operator-stop' | 'reset';

/** Who asked: 'operator' (a person, with their id), 'mcu', 'estimator', 'edge' (this daemon). */
export interface SafetySource {
  kind: 'operator' | 'mcu' | 'estimator' | 'edge' | 'remote';
  /** Operator id, remote device id, or the module name. */
  id: string;
}

export interface TransitionEvent {
  from: SafetyState;
  to: SafetyState;
  cause: SafetyCause;
  source: SafetySource;
  /** µs on the supervisor's clock. */
  at: number;
  /** Human-readable detail naming the offending value where there is one. */
  detail: string;
}

/** Who is asking for a reset or a resume. The authoriser decides from the role. */
export interface OperatorIdentity {
  id: string;
  role: string;
}

export interface RemoteEstopInput {
  /** 'robot': addressed to this robot; 'fleet': fleet-wide. */
  scope: 'robot' | 'fleet';
  /** 0, 1 or 2; anything else (or malformed) stops as category 0. */
  category: number;
  operator?: string;
  /** The message could not be parsed: still stops (fail safe), as category 0. */
  malformed: boolean;
  /**
   * Set when the caller already put this stop on the wire (the MQTT fast path writes the ESTOP
   * frame before anything else): whether that write succeeded. The supervisor then records it
   * instead of sending a second frame. Absent: the supervisor sends it.
   */
  onWire?: boolean;
}

/** A refused request, reported as data. */
export interface RefusalEvent {
  request: 'reset' | 'resume';
  operator: OperatorIdentity | null;
  reason: 'unauthorised' | 'unsafe' | 'wrong-state' | 'no-fresh-plan' | 'mcu-refused' | 'link-error';
  detail: string;
  at: number;
}

/** An e-stop that was put on the wire (or could not be). */
export interface EstopSentEvent {
  category: number;
  source: number;
  reason: number;
  onWire: boolean;
  cause: SafetyCause;
  at: number;
}

export type SafetySupervisorEvents = {
  transition: [ev: TransitionEvent];
  refused: [ev: RefusalEvent];
  'estop-sent': [ev: EstopSentEvent];
  /** A fresh stop request arrived while already latched (recorded, no transition). */
  'stop-while-latched': [ev: { cause: SafetyCause; source: SafetySource; at: number }];
  /** The command epoch changed: the last command sent is no longer a reference for the next. */
  'command-epoch': [epoch: number];
  /** Already in HOLD, a stronger reason arrived (one a new plan does not clear): the hold now
   * needs an operator's resume. */
  'hold-cause': [ev: { cause: SafetyCause; source: SafetySource; at: number; detail: string }];
  /** What the supervisor knows of the MCU's own latch changed (see McuLatch). */
  'mcu-latch': [ev: { latch: McuLatch; at: number; detail: string }];
  /** The serial link changed state, or refused the MCU: reported as data, for the operator. */
  link: [ev: LinkEvent];
};

/**
 * The MCU's latch as the host last saw it in STATE (ESTOP_LATCHED or WATCHDOG_TRIPPED):
 * 'unknown' while no STATE has arrived since the link (re)connected or the MCU restarted.
 */
export type McuLatch = 'latched' | 'clear' | 'unknown';

export interface LinkEvent {
  /** The link's state after the change, or 'refused' when it refused the MCU. */
  to: string;
  from: string;
  detail: string;
  at: number;
}

/** The part of SerialLink the supervisor drives; a SerialLink satisfies it. */
export interface SafetyActuator {
  sendEstop(category: number, source: number, reason: number): boolean;
  sendReset(what: number, token: number): Promise<AckMsg>;
}

/** The part of a logger the supervisor uses (a pino Logger fits). */
export interface SafetyLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface StopCategories {
  /** Default 1. */
  fall: number;
  /** Default 1. */
  deadman: number;
  /** Default 1: what the MCU watchdog does anyway. */
  linkLost: number;
  /** Default 1. */
  mcuFault: number;
  /** Default 2: a controlled stop that keeps the drives powered, holding position (remote e-stop channel lost). */
  mqttLink: number;
}

export interface SafetySupervisorOptions {
  /** Decides whether an operator may reset and resume. Default: role 'operator' or 'admin'. */
  authorise?: (op: OperatorIdentity) => boolean;
  /** Optional dead-man: no operatorHeartbeat() for this long while moving → stop. 0/absent: off. */
  deadmanTimeoutMs?: number;
  categories?: Partial<StopCategories>;
  logger?: SafetyLogger;
}

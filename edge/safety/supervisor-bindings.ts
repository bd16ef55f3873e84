/** Wires the supervisor to the serial link's and the estimator's events (a link already READY counts
 * as ready). Returns the unbinding.
 * - link: ready, lost, restarted (a HELLO while READY: a lost MCU), incompatible (refused: a lost
 *   link, also mid-session), every state change (a `link` event), MCU e-stops and STATE status;
 * - estimator: its time base restarts with every READY and MCU restart; fall and tilt, and impossible values (IMPOSSIBLE_DETECTED: the robot holds until
 *   they clear and an operator resumes). */
import { Detected, detectedName, IMPOSSIBLE_DETECTED } from '../estimation/estimation-flags.js';
import type { SensorFaultEvent } from '../estimation/estimator-options.js';
import type { SerialLink } from '../serial/serial-link.js';
import type { StateEvent } from '../serial/serial-link-types.js';
import type { StateEstimator } from '../estimation/state-estimator.js';
import type { SafetySupervisor } from './safety-supervisor.js';
import type { TransitionEvent } from './safety-types.js';
import { hostStateOf } from './host-state.js';

const IMPOSSIBLE_KINDS: ReadonlySet<string> = new Set(
  Object.values(Detected).filter((bit) => (bit & IMPOSSIBLE_DETECTED) !== 0).map((bit) => detectedName(bit)),
);

/** One key per condition and joint, so each clears on its own. */
function sensorKey(e: SensorFaultEvent): string {
  return e.sensor === 'joint' ? `${e.kind}#${e.joint}` : e.kind;
}

export function bindSupervisor(sup: SafetySupervisor, link: SerialLink, estimator: StateEstimator | null): () => void {
  const onReady = (): void => {
    estimator?.restartTimeBase(); // a new connection: the MCU's clock (maybe the MCU) started over
    sup.linkReady();
  };
  const onLost = (ev: { reason: string }): void => sup.linkLost(ev.reason);
  const onRestarted = (ev: { detail: string }): void => {
    estimator?.restartTimeBase();
    sup.mcuRestarted(ev.detail);
  };
  const onChange = (ev: { from: string; to: string }): void => sup.linkChanged(ev.from, ev.to, `serial link ${ev.from} → ${ev.to}`);
  const onIncompatible = (ev: { message: string }): void => {
    sup.linkChanged(link.state, 'refused', `MCU refused: ${ev.message}`);
    sup.linkLost(`MCU refused: ${ev.message}`);
  };
  const onEstop = (m: Parameters<SafetySupervisor['mcuEstop']>[0]): void => sup.mcuEstop(m);
  const onState = (ev: StateEvent): void => sup.mcuStatus(ev.msg.status, ev.msg.faults);
  const onFall = (): void => sup.fall();
  const onTilt = (): void => sup.tiltWarning();
  const onCleared = (): void => sup.tiltCleared();
  // HEARTBEAT host_state tells the truth (SPEC.md: 4 while the host is in e-stop).
  const onTransition = (ev: TransitionEvent): void => link.setHostState(hostStateOf(ev.to));
  link.setHostState(hostStateOf(sup.state));
  sup.on('transition', onTransition);
  const onSensorFault = (e: SensorFaultEvent): void => {
    if (IMPOSSIBLE_KINDS.has(e.kind)) sup.impossibleState(sensorKey(e), e.detail);
  };
  const onSensorRecovered = (e: SensorFaultEvent): void => {
    if (IMPOSSIBLE_KINDS.has(e.kind)) sup.sensorRecovered(sensorKey(e));
  };
  link.on('ready', onReady);
  link.on('lost', onLost);
  link.on('restarted', onRestarted);
  link.on('state-change', onChange);
  link.on('incompatible', onIncompatible);
  link.on('mcu-estop', onEstop);
  link.on('state', onState);
  estimator?.on('fall', onFall);
  estimator?.on('tilt-warning', onTilt);
  estimator?.on('tilt-cleared', onCleared);
  estimator?.on('sensor-fault', onSensorFault);
  estimator?.on('sensor-recovered', onSensorRecovered);
  if (link.state === 'READY') sup.linkReady(); // bound after the handshake finished
  return () => {
    sup.off('transition', onTransition);
    link.off('ready', onReady);
    link.off('lost', onLost);
    link.off('restarted', onRestarted);
    link.off('state-change', onChange);
    link.off('incompatible', onIncompatible);
    link.off('mcu-estop', onEstop);
    link.off('state', onState);
    estimator?.off('fall', onFall);
    estimator?.off('tilt-warning', onTilt);
    estimator?.off('tilt-cleared', onCleared);
    estimator?.off('sensor-fault', onSensorFault);
    estimator?.off('sensor-recovered', onSensorRecovered);
  };
}

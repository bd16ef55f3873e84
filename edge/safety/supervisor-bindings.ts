/** Wires the supervisor to the serial link's and the estimator's events (a link already READY counts
 * as ready). Returns the unbinding. */
import type { SerialLink } from '../serial/serial-link.js';
import type { StateEvent } from '../serial/serial-link-types.js';
import type { StateEstimator } from '../estimation/state-estimator.js';
import type { SafetySupervisor } from './safety-supervisor.js';
import type { TransitionEvent } from './safety-types.js';
import { hostStateOf } from './host-state.js';

export function bindSupervisor(sup: SafetySupervisor, link: SerialLink, estimator: StateEstimator | null): () => void {
  const onReady = (): void => sup.linkReady();
  const onLost = (ev: { reason: string }): void => sup.linkLost(ev.reason);
  const onEstop = (m: Parameters<SafetySupervisor['mcuEstop']>[0]): void => sup.mcuEstop(m);
  const onState = (ev: StateEvent): void => sup.mcuStatus(ev.msg.status, ev.msg.faults);
  const onFall = (): void => sup.fall();
  const onTilt = (): void => sup.tiltWarning();
  const onCleared = (): void => sup.tiltCleared();
  // HEARTBEAT host_state tells the truth (SPEC.md: 4 while the host is in e-stop).
  const onTransition = (ev: TransitionEvent): void => link.setHostState(hostStateOf(ev.to));
  link.setHostState(hostStateOf(sup.state));
  sup.on('transition', onTransition);
  link.on('ready', onReady);
  link.on('lost', onLost);
  link.on('mcu-estop', onEstop);
  link.on('state', onState);
  estimator?.on('fall', onFall);
  estimator?.on('tilt-warning', onTilt);
  estimator?.on('tilt-cleared', onCleared);
  if (link.state === 'READY') sup.linkReady(); // bound after the handshake finished
  return () => {
    sup.off('transition', onTransition);
    link.off('ready', onReady);
    link.off('lost', onLost);
    link.off('mcu-estop', onEstop);
    link.off('state', onState);
    estimator?.off('fall', onFall);
    estimator?.off('tilt-warning', onTilt);
    estimator?.off('tilt-cleared', onCleared);
  };
}

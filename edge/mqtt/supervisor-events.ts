/**
 * Publishes the supervisor's safety facts that are not transitions (a stop while latched, a hold
 * that now needs a resume, the MCU latch as the host sees it, serial link changes) as MQTT safety
 * events, so the dashboard and any fleet log see every stop request and every link change, not
 * only the ones that moved the state machine. Transitions are published by RobotMqtt itself.
 */
import type { SafetyEventBody } from '../../proto/mqtt/index.js';
import type { SafetySupervisor } from '../safety/safety-supervisor.js';
import type { SafetySource } from '../safety/safety-types.js';

const DETAIL_MAX = 500;

function sourceName(s: SafetySource): string {
  return `${s.kind}:${s.id}`;
}

function clip(s: string): string {
  return s.length <= DETAIL_MAX ? s : s.slice(0, DETAIL_MAX);
}

/** Forwards the events to `publish` until the returned function is called. */
export function publishSupervisorEvents(sup: SafetySupervisor, publish: (e: SafetyEventBody) => void): () => void {
  const onStop = (e: { cause: string; source: SafetySource }): void => publish({ kind: 'stop-while-latched', cause: e.cause, source: sourceName(e.source) });
  const onHold = (e: { cause: string; source: SafetySource; detail: string }): void => publish({ kind: 'hold-cause', cause: e.cause, source: sourceName(e.source), detail: clip(e.detail) });
  const onLatch = (e: { latch: 'latched' | 'clear' | 'unknown'; detail: string }): void => publish({ kind: 'mcu-latch', latch: e.latch, detail: clip(e.detail) });
  const onLink = (e: { from: string; to: string; detail: string }): void => publish({ kind: 'serial-link', from: e.from, to: e.to, detail: clip(e.detail) });
  sup.on('stop-while-latched', onStop);
  sup.on('hold-cause', onHold);
  sup.on('mcu-latch', onLatch);
  sup.on('link', onLink);
  return () => {
    sup.off('stop-while-latched', onStop);
    sup.off('hold-cause', onHold);
    sup.off('mcu-latch', onLatch);
    sup.off('link', onLink);
  };
}

// @ts-check
/**
 * The operator's commands as proto/mqtt defines them (JSON, v: 1): topic, payload, retain, QoS.
 * The broker's ACL decides whether the logged-in user may send them; the robot checks them again.
 * A reset, resume or episode mark is published under the user's own name (`cmd/reset/<user>`): the only topic
 * the broker lets this account write for it, which is how the robot learns who sent it.
 */
import { FLEET_TARGET, TOPIC_ROOT } from './fleet-model.js';

/** @param {string} prefix */
function commandId(prefix) {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  return `${prefix}-${Date.now().toString(36)}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * @typedef {{ topic: string, payload: string, retain: boolean, qos: 1 }} Outgoing
 * @typedef {{ fleet: string, user: string, role: 'operator' | 'viewer' }} Sender
 */

/**
 * An e-stop for one robot, or for the whole fleet (`robot` null): published retained there, so it
 * is the fleet latch that robots connecting later also obey.
 * @param {Sender} who @param {string | null} robot @param {0 | 1 | 2} [category]
 * @returns {Outgoing}
 */
export function estop(who, robot, category = 1) {
  const payload = { v: 1, kind: 'estop', id: commandId('stop'), category, operator: who.user, at: Date.now(), reason: robot === null ? 'STOP ALL from the dashboard' : 'e-stop from the dashboard' };
  return { topic: `${TOPIC_ROOT}/${who.fleet}/${robot ?? FLEET_TARGET}/cmd/estop`, payload: JSON.stringify(payload), retain: robot === null, qos: 1 };
}

/** Releases the fleet latch; every robot still needs its own reset. @param {Sender} who @returns {Outgoing} */
export function releaseFleetLatch(who) {
  const payload = { v: 1, kind: 'release', id: commandId('release'), operator: who.user, at: Date.now() };
  return { topic: `${TOPIC_ROOT}/${who.fleet}/${FLEET_TARGET}/cmd/estop`, payload: JSON.stringify(payload), retain: true, qos: 1 };
}

/** @param {Sender} who @param {string} robot @returns {Outgoing} */
export function reset(who, robot) {
  const payload = { v: 1, kind: 'reset', id: commandId('reset'), operator: who.user, at: Date.now() };
  return { topic: `${TOPIC_ROOT}/${who.fleet}/${robot}/cmd/reset/${who.user}`, payload: JSON.stringify(payload), retain: false, qos: 1 };
}

/** @param {Sender} who @param {string} robot @returns {Outgoing} */
export function resume(who, robot) {
  const payload = { v: 1, kind: 'resume', id: commandId('resume'), operator: who.user, at: Date.now() };
  return { topic: `${TOPIC_ROOT}/${who.fleet}/${robot}/cmd/resume/${who.user}`, payload: JSON.stringify(payload), retain: false, qos: 1 };
}

/**
 * An operator's mark on the robot's recorded episode, under the user's own name like a reset.
 * @param {Sender} who @param {string} robot @param {'success' | 'failure' | 'intervention'} outcome
 * @param {boolean} end true: end the episode with this outcome; false: only mark it
 * @returns {Outgoing}
 */
export function episodeMark(who, robot, outcome, end) {
  const payload = { v: 1, kind: 'episode', id: commandId('episode'), operator: who.user, at: Date.now(), outcome, end };
  return { topic: `${TOPIC_ROOT}/${who.fleet}/${robot}/cmd/episode/${who.user}`, payload: JSON.stringify(payload), retain: false, qos: 1 };
}

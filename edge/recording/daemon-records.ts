/**
 * What the daemon publishes on its RecordingBus from where it sees it: every STATE frame
 * (`/spinal/state`, in SI units), the COMMANDs the tick thread put on the wire (`/spinal/command`)
 * and the safety supervisor's transitions (`/spinal/safety`).
 *
 * Cost: nothing is built while the bus has no sink (`bus.active` false), nor for a topic no sink
 * takes (`wants`: the live view with no client subscribed to it): a check per STATE frame. COMMANDs are written by the tick thread; this thread sees the latest one through
 * shared memory (LastSent), read once per STATE frame, so at a COMMAND rate above the STATE rate
 * the channel carries the latest COMMAND per STATE frame and `seq` (the count of COMMANDs sent)
 * shows how many were in between.
 *
 * Times: `hostUs` is the daemon's monotonic clock (performance.now() µs); the log time is that
 * instant as Unix epoch ns (performance.timeOrigin + hostUs), one clock for both.
 */
import { countsToRad, cpsToRadPerSec, type RobotProfile } from '../../hardware/index.js';
import { Topic, type CommandRecord, type RecordingSink, type StateRecord } from '../../proto/recording/channels.js';
import { StateFlag } from '../../proto/wire/index.js';
import type { LastSent } from '../safety/command-gate.js';
import type { StateEvent } from '../serial/serial-link-types.js';
import type { TransitionEvent } from '../safety/safety-types.js';

/** Unix epoch ns of a `performance.now()`-based µs instant. */
export function epochNsOfHostUs(hostUs: number): bigint {
  return BigInt(Math.round((performance.timeOrigin + hostUs / 1000) * 1000)) * 1000n;
}

/** A STATE frame as a StateRecord (SI units; a fresh object, the event is reused by the link). */
export function stateRecord(ev: StateEvent, profile: RobotProfile): StateRecord {
  const m = ev.msg;
  const n = Math.min(m.jointCount, profile.joints.length);
  const position = new Array<number>(n);
  const velocity = new Array<number>(n);
  const current = new Array<number>(n);
  for (let j = 0; j < n; j++) {
    const jp = profile.joints[j];
    if (jp === undefined) break;
    position[j] = countsToRad(jp, m.position[j] as number);
    velocity[j] = cpsToRadPerSec(jp, m.velocity[j] as number);
    current[j] = m.current[j] as number;
  }
  const rec: StateRecord = { hostUs: ev.hostTimeUs, mcuUs: ev.mcuTimeUs, seq: ev.seq, status: m.status, faults: m.faults, position, velocity, current };
  if ((m.flags & StateFlag.IMU) !== 0) {
    rec.imu = {
      accel: [m.accel[0] as number, m.accel[1] as number, m.accel[2] as number],
      gyro: [m.gyro[0] as number, m.gyro[1] as number, m.gyro[2] as number],
      ...((m.flags & StateFlag.ORIENTATION) !== 0 ? { quat: [m.quat[0] as number, m.quat[1] as number, m.quat[2] as number, m.quat[3] as number] as [number, number, number, number] } : {}),
    };
  }
  return rec;
}

export function commandRecord(s: LastSent): CommandRecord {
  return { hostUs: s.atUs, seq: s.count, mode: s.mode, target: Array.from(s.position), velocity: Array.from(s.velocity) };
}

export function safetyRecord(e: TransitionEvent): object {
  return { hostUs: e.at, kind: 'transition', from: e.from, to: e.to, cause: e.cause, source: `${e.source.kind}:${e.source.id}`, detail: e.detail };
}

export interface DaemonRecordSources {
  /** The bus (`active`: some sink is attached). */
  bus: RecordingSink & { readonly active: boolean };
  profile: RobotProfile;
  serial: { on(e: 'state', fn: (ev: StateEvent) => void): unknown; off(e: 'state', fn: (ev: StateEvent) => void): unknown };
  /** The latest COMMAND on the wire (ControlLoop.gate.lastSent). */
  lastSent: () => LastSent;
  supervisor: { on(e: 'transition', fn: (ev: TransitionEvent) => void): unknown; off(e: 'transition', fn: (ev: TransitionEvent) => void): unknown };
  /** Whether some attached sink takes `topic` now; default: every topic while the bus is active. */
  wants?: (topic: string) => boolean;
}

/** Starts publishing; the returned function stops it. */
export function publishDaemonRecords(src: DaemonRecordSources): () => void {
  const { bus, profile } = src;
  const wants = src.wants ?? (() => true);
  let lastCount = 0;
  const onState = (ev: StateEvent): void => {
    if (!bus.active) return;
    if (wants(Topic.state)) bus.publish(Topic.state, epochNsOfHostUs(ev.hostTimeUs), stateRecord(ev, profile));
    if (!wants(Topic.command)) return;
    const s = src.lastSent();
    if (s.count !== lastCount && s.count > 0) {
      lastCount = s.count;
      bus.publish(Topic.command, epochNsOfHostUs(s.atUs), commandRecord(s));
    }
  };
  const onTransition = (e: TransitionEvent): void => {
    if (!bus.active || !wants(Topic.safety)) return;
    bus.publish(Topic.safety, epochNsOfHostUs(e.at), safetyRecord(e));
  };
  src.serial.on('state', onState);
  src.supervisor.on('transition', onTransition);
  return () => {
    src.serial.off('state', onState);
    src.supervisor.off('transition', onTransition);
  };
}

/**
 * Where the daemon's data meets the RecordingBus: one listener per producer (serial link, control
 * loop, estimator, supervisor, cloud link), each building its record only while the bus has a sink
 * (`bus.active`), so a daemon without a recorder or a live view pays one property read per event.
 *
 * Times: `hostUs` is the edge's monotonic clock (the same one the link stamps STATE with); the
 * MCAP log time is that plus the offset to the Unix epoch taken once at start (RecordingClock).
 *
 * COMMANDs are written by the tick thread; it appends each one to the mailbox's COMMAND ring and
 * CommandDrain publishes them from this thread, on every STATE and every link-health sample, so
 * none is missed while the ring (4 s at 1 kHz) has not wrapped; a wrap is counted in `lost`.
 */
import { countsToRad, cpsToRadPerSec, type JointProfile, type RobotProfile } from '../../hardware/index.js';
import { StateFlag } from '../../proto/wire/constants.js';
import { Topic, cameraTopic, type CommandRecord, type StateRecord } from '../../proto/recording/channels.js';
import type { Clock } from '../clock.js';
import type { CloudLink } from '../cloud-link/cloud-link.js';
import type { AcceptedPlan, ObservationSentEvent } from '../cloud-link/cloud-link-types.js';
import type { ControlLoop } from '../control/control-loop.js';
import { CommandRing, Word, commandRingStride, type CommandMailbox } from '../control/command-mailbox.js';
import type { PlanExecution } from '../control/plan-execution.js';
import { newObservation } from '../estimation/observation.js';
import type { StateEstimator } from '../estimation/state-estimator.js';
import type { SafetySupervisor } from '../safety/safety-supervisor.js';
import type { SerialLink } from '../serial/serial-link.js';
import type { StateEvent } from '../serial/serial-link-types.js';
import type { RecordingBus } from './recording-bus.js';

/** Host µs → MCAP log time (ns since the Unix epoch), from one offset taken at construction. */
export class RecordingClock {
  private readonly epochOffsetUs: number;
  constructor(readonly clock: Clock) {
    this.epochOffsetUs = Date.now() * 1000 - clock.nowUs();
  }

  nowUs(): number {
    return this.clock.nowUs();
  }

  logTimeNs(hostUs: number): bigint {
    return BigInt(Math.round(hostUs + this.epochOffsetUs)) * 1000n;
  }
}

/** One STATE frame in SI units. */
export function stateRecord(ev: StateEvent, joints: readonly JointProfile[]): StateRecord {
  const m = ev.msg;
  const n = Math.min(m.jointCount, joints.length);
  const position = new Array<number>(n);
  const velocity = new Array<number>(n);
  const current = new Array<number>(n);
  for (let j = 0; j < n; j++) {
    const jp = joints[j] as JointProfile;
    position[j] = countsToRad(jp, m.position[j] as number);
    velocity[j] = cpsToRadPerSec(jp, m.velocity[j] as number);
    current[j] = m.current[j] as number;
  }
  const r: StateRecord = { hostUs: ev.hostTimeUs, mcuUs: ev.mcuTimeUs, seq: ev.seq, status: m.status, faults: m.faults, position, velocity, current };
  if ((m.flags & StateFlag.IMU) !== 0) {
    r.imu = {
      accel: [m.accel[0] as number, m.accel[1] as number, m.accel[2] as number],
      gyro: [m.gyro[0] as number, m.gyro[1] as number, m.gyro[2] as number],
      ...((m.flags & StateFlag.ORIENTATION) !== 0 ? { quat: [m.quat[0] as number, m.quat[1] as number, m.quat[2] as number, m.quat[3] as number] as [number, number, number, number] } : {}),
    };
  }
  return r;
}

/** Publishes the COMMANDs the tick thread wrote since the last drain (see the file comment). */
export class CommandDrain {
  private read: number;
  /** Records overwritten before they were drained. */
  lost = 0;
  published = 0;
  private readonly stride: number;
  private readonly cap: number;

  constructor(private readonly mb: CommandMailbox, private readonly bus: RecordingBus, private readonly time: RecordingClock) {
    this.stride = commandRingStride(mb.jointCount);
    this.cap = mb.commands.length / this.stride;
    // Only what is written from now on (a recorder attached late does not replay the ring).
    this.read = mb.commandsWritten;
  }

  drain(): void {
    const mb = this.mb;
    const total = mb.commandsWritten;
    let behind = (total - this.read) >>> 0;
    if (behind === 0) return;
    if (!this.bus.active) {
      this.read = total;
      return;
    }
    if (behind > this.cap) {
      this.lost += behind - this.cap;
      this.read = (total - this.cap) >>> 0;
      behind = this.cap;
    }
    const n = mb.jointCount;
    const c = mb.commands;
    for (let k = 0; k < behind; k++) {
      const i = (this.read + k) >>> 0;
      const o = (i % this.cap) * this.stride;
      const target = new Array<number>(n);
      const velocity = new Array<number>(n);
      for (let j = 0; j < n; j++) {
        target[j] = c[o + CommandRing.HEADER + j] as number;
        velocity[j] = c[o + CommandRing.HEADER + n + j] as number;
      }
      const rec: CommandRecord = { hostUs: c[o + CommandRing.AT_US] as number, seq: c[o + CommandRing.SEQ] as number, mode: c[o + CommandRing.MODE] as number, target, velocity };
      // The worker may have lapped this slot while it was copied: then it is lost, not torn.
      if (((Atomics.load(mb.words, Word.CMD_RING_IDX) >>> 0) - i) >>> 0 > this.cap) {
        this.lost++;
        continue;
      }
      this.published++;
      this.bus.publish(Topic.command, this.time.logTimeNs(rec.hostUs), rec);
    }
    this.read = total;
  }
}

export interface TapSources {
  profile: RobotProfile;
  serial: SerialLink;
  loop: ControlLoop;
  estimator: StateEstimator;
  supervisor: SafetySupervisor;
  plans: PlanExecution;
  /** Rate of the estimate and link-health channels, Hz. */
  sampleHz: number;
}

export interface Taps {
  commands: CommandDrain;
  /** STATE frames published. */
  states: number;
  /** Taps the cloud link too (made after the serial link is open). */
  attachCloud(cloud: CloudLink): void;
  /** Publishes what is still in the COMMAND ring and stops every listener and timer. */
  detach(): void;
}

const rows = (a: Float32Array, n: number): number[][] => {
  const out: number[][] = [];
  for (let r = 0; r * n < a.length; r++) out.push(Array.from(a.subarray(r * n, (r + 1) * n)));
  return out;
};

export function tapDaemon(bus: RecordingBus, time: RecordingClock, s: TapSources): Taps {
  const joints = s.profile.joints;
  const n = joints.length;
  const off: (() => void)[] = [];
  const on: On = (em, ev, fn) => {
    (em.on as (e: string, f: typeof fn) => unknown)(ev, fn);
    off.push(() => (em.off as (e: string, f: typeof fn) => unknown)(ev, fn));
  };
  const pub: Publish = (topic, hostUs, rec) => bus.publish(topic, time.logTimeNs(hostUs), rec);
  const now = stampNow(bus, time);
  const commands = new CommandDrain(s.loop.mailbox, bus, time);
  const taps: Taps = { commands, states: 0, attachCloud: () => undefined, detach: () => undefined };

  const snap = newObservation(n);
  const samplePeriodUs = 1e6 / s.sampleHz;
  let nextEstimateUs = 0;
  on(s.serial, 'state', (ev: StateEvent) => {
    if (!bus.active) return;
    taps.states++;
    pub(Topic.state, ev.hostTimeUs, stateRecord(ev, joints));
    commands.drain();
    const now = time.nowUs();
    if (now < nextEstimateUs || !s.estimator.read(snap)) return;
    nextEstimateUs = now + samplePeriodUs;
    pub(Topic.estimate, snap.hostTimeUs, {
      hostUs: snap.hostTimeUs, samples: snap.sampleCount, validity: snap.validity, detected: snap.detected, jointValidMask: snap.jointValidMask,
      position: Array.from(snap.position), velocity: Array.from(snap.velocity), effort: Array.from(snap.effort, (v) => (Number.isFinite(v) ? v : null)),
      orientation: Array.from(snap.orientation), angularRate: Array.from(snap.angularRate), tiltRad: snap.tiltRad, tiltRateRadS: snap.tiltRateRadS, fallen: snap.fallen,
    });
  });

  // Safety: every transition and event of the supervisor, the MCU's own stops, the loop's failures.
  const safety = (event: string) => (e: object): void => now(Topic.safety, { event, ...e });
  for (const ev of ['transition', 'refused', 'estop-sent', 'stop-while-latched', 'hold-cause', 'mcu-latch', 'link'] as const) on(s.supervisor, ev, safety(ev));
  on(s.serial, 'mcu-estop', safety('mcu-estop'));
  on(s.serial, 'commands-shed', safety('commands-shed'));
  on(s.loop, 'worker-failed', safety('worker-failed'));
  on(s.loop, 'main-stalled', safety('main-stalled'));
  on(s.loop.gate, 'bad-numbers', safety('bad-numbers'));

  // Chunks as they go to the schedule: decoded from a latent, or received as joint targets.
  on(s.loop, 'chunk', (e: { originUs: number; decodeMs: number; actions: Float32Array }) =>
    now(Topic.chunk, () => ({ source: 'decoder', originUs: e.originUs, decodeMs: e.decodeMs, actions: rows(e.actions, n) })));
  on(s.loop, 'action-chunk', (e: { originUs: number; rows: number; actions: Float32Array }) =>
    now(Topic.chunk, () => ({ source: 'plan', originUs: e.originUs, actions: rows(e.actions, n) })));
  on(s.loop, 'feed-failed', (e: { status: string; detail?: string }) =>
    now(Topic.switching, { decision: 'feed-failed', status: e.status, detail: e.detail ?? '' }));

  let cloud: CloudLink | null = null;
  taps.attachCloud = (c: CloudLink): void => {
    cloud = c;
    tapCloud(c, s.plans, bus, time, pub, on, now);
  };

  // Link health, and a COMMAND drain that does not depend on STATE arriving.
  const timer = setInterval(() => {
    commands.drain();
    if (!bus.active) return;
    const hostUs = time.nowUs();
    const h = s.serial.health();
    pub(Topic.link, hostUs, {
      hostUs, serial: {
        state: h.state, framesSent: h.framesSent, commandsSent: h.commandsSent, heartbeatsSent: h.heartbeatsSent, writesDropped: h.writesDropped,
        commandsShed: h.commandsShed, rxFrames: h.decoder.frames, crcErrors: h.decoder.crcErrors, cobsErrors: h.decoder.cobsErrors,
        bodyErrors: h.bodyErrors, lastFrameAgeMs: h.lastFrameAgeMs, backlogMs: h.line.backlogMs,
      },
      cloud: cloud === null ? null : { state: cloud.linkState, roundTripMs: cloud.roundTripMs },
      commandsLost: commands.lost,
    });
  }, Math.max(1000 / Math.min(s.sampleHz, 10), 20));
  timer.unref();

  taps.detach = (): void => {
    clearInterval(timer);
    commands.drain();
    for (const f of off.splice(0)) f();
  };
  return taps;
}

/**
 * Publishes `fields` stamped with the host time now (`hostUs` first), when a sink takes records;
 * a function for `fields` is called only then (records whose building costs something).
 */
type StampNow = (topic: string, fields: object | (() => object)) => void;
function stampNow(bus: RecordingBus, time: RecordingClock): StampNow {
  return (topic, fields) => {
    if (!bus.active) return;
    const hostUs = time.nowUs();
    bus.publish(topic, time.logTimeNs(hostUs), { hostUs, ...(typeof fields === 'function' ? fields() : fields) });
  };
}

/** Publishes a record stamped with the host time it carries (µs). */
type Publish = (topic: string, hostUs: number, rec: object) => void;

type On = (em: { on: (ev: never, fn: never) => unknown; off: (ev: never, fn: never) => unknown }, ev: string, fn: (...a: never[]) => void) => void;

/** Plans, their switching, observations sent and camera frames, from the cloud link. */
function tapCloud(cloud: CloudLink, plans: PlanExecution, bus: RecordingBus, time: RecordingClock, pub: Publish, on: On, now: StampNow): void {
  let kind = plans.kind;
  // Registered after the daemon's own 'plan' listener: PlanExecution has judged the plan by now.
  on(cloud, 'plan', (p: AcceptedPlan) => {
    const was = kind;
    kind = plans.kind;
    if (!bus.active) return;
    pub(Topic.plan, p.receivedUs, {
      hostUs: p.receivedUs, planId: p.planId, observationSeq: p.observationSeq, kind: p.kind, taskId: p.taskId,
      captureUs: p.captureUs, expiresAtUs: p.expiresAtUs, latent: Array.from(p.latent),
      chunk: p.chunk === null ? null : { rows: p.chunk.rows, stepUs: p.chunk.stepUs, source: p.chunk.source },
    });
    const hostUs = time.nowUs();
    if (kind !== was) pub(Topic.switching, hostUs, { hostUs, decision: 'plan-kind', from: was, to: kind, planId: p.planId });
    if (plans.lastRefusal !== '' && plans.lastRefusal.startsWith(`plan ${p.planId}:`)) pub(Topic.switching, hostUs, { hostUs, decision: 'plan-not-used', planId: p.planId, detail: plans.lastRefusal });
  });
  on(cloud, 'plan-rejected', (e: object) => now(Topic.plan, { rejected: true, ...e }));
  on(cloud, 'plan-expired', (e: object) => now(Topic.switching, { decision: 'plan-expired', ...e }));
  on(cloud, 'observation-sent', (e: ObservationSentEvent) => {
    if (!bus.active) return;
    pub(Topic.observation, e.captureUs, {
      hostUs: e.sendUs, seq: e.seq, captureUs: e.captureUs, taskId: e.taskId, state: e.state,
      frames: e.frames.map((f) => ({ cameraId: f.cameraId, width: f.width, height: f.height, encoding: f.encoding, captureUs: f.captureUs })),
    });
    for (const f of e.frames) {
      const ns = time.logTimeNs(f.captureUs);
      pub(cameraTopic(f.cameraId), f.captureUs, {
        timestamp: { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) },
        frame_id: f.cameraId, format: f.encoding, data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).toString('base64'),
      });
    }
  });
}

/**
 * The dashboard bench's synthetic robots, built to cost their process as little as possible: a
 * robot's motion repeats every CYCLE_S seconds (every frequency below is a whole number of cycles
 * in that time, so the plot shows no seam), and the JSON of each of the cycle's samples is encoded
 * once, at start. Publishing a sample then writes only its head (time, sequence number, safety
 * state) in front of the stored rest, and the MQTT PUBLISH packet around it, into one buffer.
 *
 * Why: measured on this machine, building a summary object and JSON.stringify-ing it (its ~150
 * rounded floats) cost 70-130 µs per message, a quarter of a core at 2000 messages/s: the bench's
 * own process starved the broker it feeds, and the page's figures measured that.
 */
import { BRIEF_PERIOD_MS, briefOf, type SafetyEvent, type StateSummary } from '../../proto/mqtt/index.js';

/** The motion's period: 1.6 Hz gait, 0.2…0.8 Hz arm joints, 0.8 Hz body sway and 0.1 Hz heading all repeat in it. */
export const CYCLE_S = 10;
const TASKS = ['walk to the charging dock and sit down', 'pick up the red cube and put it in the blue bin'];

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const r3 = (x: number): number => Math.round(x * 1e3) / 1e3;

/** MQTT's variable-length remaining length, written at `buf[o]`; returns the offset after it. */
function writeRemainingLength(buf: Buffer, o: number, n: number): number {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    buf[o++] = b;
  } while (n > 0);
  return o;
}

const remainingLengthBytes = (n: number): number => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4);

/** A QoS 0 PUBLISH of `head` + `rest` to the topic whose length-prefixed bytes are `topic`. */
export function publishPacket(topic: Buffer, head: string, rest: Buffer): Buffer {
  const headBytes = Buffer.byteLength(head, 'latin1');
  const remaining = topic.length + headBytes + rest.length;
  const buf = Buffer.allocUnsafe(1 + remainingLengthBytes(remaining) + remaining);
  buf[0] = 0x30;
  let o = writeRemainingLength(buf, 1, remaining);
  o += topic.copy(buf, o);
  o += buf.write(head, o, 'latin1');
  rest.copy(buf, o);
  return buf;
}

/** A topic as PUBLISH carries it: two length bytes, then UTF-8. */
export function topicBytes(topic: string): Buffer {
  const t = Buffer.from(topic, 'utf8');
  const out = Buffer.allocUnsafe(2 + t.length);
  out.writeUInt16BE(t.length, 0);
  t.copy(out, 2);
  return out;
}

/** The head and rest of a JSON object whose first keys are v, robot, at, seq and safety: `{...,"safety":{...},` and `"sent":...}`. */
function restAfterHead(full: object, headKeys: readonly string[]): Buffer {
  const rest = Object.fromEntries(Object.entries(full).filter(([k]) => !headKeys.includes(k)));
  return Buffer.from(JSON.stringify(rest).slice(1), 'latin1');
}

const HEAD_KEYS = ['v', 'robot', 'at', 'seq', 'safety'] as const;

export class SyntheticRobot {
  readonly joints: number;
  private readonly offsets: number[];
  private readonly amps: number[];
  private readonly freqs: number[];
  private readonly phases: number[];
  /** The cycle's samples past their head, and the same of their briefs. */
  private readonly stateRest: Buffer[] = [];
  private readonly briefRest: Buffer[] = [];
  private seq = 0;
  private briefSeq = 0;
  private eventSeq = 0;
  private lastBriefMs = Number.NEGATIVE_INFINITY;
  private lastBriefState = '';
  state: 'ACTIVE' | 'HOLD' = 'ACTIVE';

  constructor(readonly index: number, readonly id: string, readonly rateHz: number) {
    const quadruped = index % 2 === 0;
    this.joints = quadruped ? 12 : 7;
    const j = Array.from({ length: this.joints }, (_, k) => k);
    // Quadruped: hip 0, thigh 0.8, knee -1.6 per leg; arm: a ready pose and a half-open gripper.
    this.offsets = quadruped ? j.map((k) => [0, 0.8, -1.6][k % 3] as number) : [0, -0.4, 0, 1.2, 0, 0.9, 0.02];
    this.amps = quadruped ? j.map((k) => [0.08, 0.35, 0.5][k % 3] as number) : [0.6, 0.3, 0.4, 0.35, 0.5, 0.25, 0.015];
    this.freqs = quadruped ? j.map(() => 1.6) : j.map((k) => 0.2 + 0.1 * k);
    this.phases = j.map((k) => (quadruped ? Math.PI * (Math.floor(k / 3) % 2) : 0.7 * k) + 0.37 * index);
    const n = Math.max(1, Math.round(CYCLE_S * rateHz));
    for (let k = 0; k < n; k++) {
      const s = this.summary(k / rateHz, 0, 0);
      this.stateRest.push(restAfterHead(s, HEAD_KEYS));
      this.briefRest.push(restAfterHead(briefOf(s, 0), HEAD_KEYS));
    }
  }

  /** The sample `tS` seconds into the cycle, as the edge would build it (schema-valid: the bench checks). */
  summary(tS: number, atMs: number, seq: number): StateSummary {
    const n = this.joints;
    const w = (k: number): number => 2 * Math.PI * (this.freqs[k] as number);
    const q = (t: number, k: number): number => (this.offsets[k] as number) + (this.amps[k] as number) * Math.sin(w(k) * t + (this.phases[k] as number));
    const dq = (t: number, k: number): number => (this.amps[k] as number) * w(k) * Math.cos(w(k) * t + (this.phases[k] as number));
    const measured = { position: new Array<number>(n), velocity: new Array<number>(n) };
    const sent = { position: new Array<number>(n), velocity: new Array<number>(n) };
    // The plant lags the command by ~15 ms, with encoder-sized noise.
    for (let k = 0; k < n; k++) {
      sent.position[k] = r4(q(tS, k));
      sent.velocity[k] = r3(dq(tS, k));
      measured.position[k] = r4(q(tS - 0.015, k) + (Math.random() - 0.5) * 4e-4);
      measured.velocity[k] = r3(dq(tS - 0.015, k) + (Math.random() - 0.5) * 2e-2);
    }
    const sway = 2 * Math.PI * 0.8 * tS + this.index;
    const roll = 0.03 * Math.sin(sway);
    const pitch = 0.02 * Math.sin(sway + 1);
    return {
      v: 1, robot: this.id, at: Math.round(atMs), seq,
      safety: { state: this.state, latched: false },
      sent: { mode: 'position', position: sent.position, velocity: sent.velocity, ageMs: r3(1 + Math.random() * 9) },
      link: { state: 'READY', rxFrames: Math.floor(tS * 250), errors: 0, lastFrameAgeMs: r3(Math.random() * 4) },
      measured,
      imu: {
        roll: r4(roll), pitch: r4(pitch), yaw: r4(Math.PI * 0.9 * Math.sin(2 * Math.PI * 0.1 * tS + this.index)),
        gyro: [r4(0.15 * Math.cos(sway)), r4(0.1 * Math.cos(sway + 1)), r4(0.05)],
        accel: [r3(-9.806 * Math.sin(pitch) + (Math.random() - 0.5) * 0.1), r3(9.806 * Math.sin(roll) + (Math.random() - 0.5) * 0.1), r3(9.806 + (Math.random() - 0.5) * 0.1)],
      },
      metrics: { loopLatenessP99Ms: r3(0.15 + Math.random() * 0.3), decoderMs: r3(7 + Math.random() * 3), cloudLatencyMs: r3(28 + Math.random() * 12), planAgeMs: r3(80 + Math.random() * 150) },
      task: TASKS[this.index % 2] as string,
      fleetLatch: false,
    };
  }

  private head(atMs: number, seq: number): string {
    return `{"v":1,"robot":"${this.id}","at":${Math.round(atMs)},"seq":${seq},"safety":{"state":"${this.state}","latched":false},`;
  }

  /** The next state summary's payload (tick `tick` of the robot's clock, stamped `atMs`), and its brief's when one is due (1 Hz and on a safety change, as BriefSchedule). */
  next(tick: number, atMs: number): { state: [string, Buffer]; brief: [string, Buffer] | null } {
    const k = tick % this.stateRest.length;
    const state: [string, Buffer] = [this.head(atMs, this.seq++), this.stateRest[k] as Buffer];
    let brief: [string, Buffer] | null = null;
    if (this.state !== this.lastBriefState || atMs - this.lastBriefMs >= BRIEF_PERIOD_MS) {
      this.lastBriefState = this.state;
      this.lastBriefMs = atMs;
      brief = [this.head(atMs, this.briefSeq++), this.briefRest[k] as Buffer];
    }
    return { state, brief };
  }

  /** The next safety event, alternating ACTIVE → HOLD (plan lapsed) and HOLD → ACTIVE (new plan). */
  event(wallMs: number, monoUs: number): SafetyEvent {
    const hold = this.state === 'ACTIVE';
    const from = this.state;
    this.state = hold ? 'HOLD' : 'ACTIVE';
    const base = { v: 1 as const, robot: this.id, wallMs: Math.round(wallMs), monoUs: Math.round(monoUs), seq: this.eventSeq++, kind: 'transition' as const, from, to: this.state };
    return hold ? { ...base, cause: 'plan-expired', source: 'edge:plan-ttl', detail: 'plan older than its validity' } : { ...base, cause: 'new-plan', source: 'edge:cloud-link' };
  }
}

/** A robot's place in its fleet's publishing schedule: the next deadline (performance.now ms) and its sample count. */
export interface Scheduled {
  readonly robot: SyntheticRobot;
  nextMs: number;
  tick: number;
}

/** Spreads the fleet's first deadlines evenly over one period from `startMs`: a stream, as from independent robots. */
export function stagger(fleet: readonly Scheduled[], startMs: number, periodMs: number): void {
  fleet.forEach((l, k) => { l.nextMs = startMs + (k * periodMs) / fleet.length; });
}

/**
 * Calls `publish` for every robot whose sample fell due by `nowMs`, then moves it one period on.
 * A robot late by more than a period skips the samples it missed, never bunches them; returns how
 * many were skipped.
 */
export function forEachDue<T extends Scheduled>(fleet: readonly T[], periodMs: number, nowMs: number, publish: (l: T) => void): number {
  let skipped = 0;
  for (const l of fleet) {
    if (l.nextMs > nowMs) continue;
    const late = Math.floor((nowMs - l.nextMs) / periodMs);
    if (late > 0) { skipped += late; l.nextMs += late * periodMs; l.tick += late; }
    publish(l);
    l.nextMs += periodMs;
    l.tick++;
  }
  return skipped;
}

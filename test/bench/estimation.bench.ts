/**
 * State estimation: orientation error of the host filter against the simulated plant's truth
 * (standing still, base rotating, and a fall), and the cost per STATE sample of the whole
 * estimation path at 1 kHz (joints, IMU checks, calibration, Mahony filter, tilt/fall, seqlocked
 * publish), against its parts alone (the orientation filter with calibration; the joint estimator)
 * on the same recorded samples, measured one sample at a time with process.hrtime.bigint.
 */
import { getProfile, type RobotProfile } from '../../hardware/index.js';
import { newState, type StateMsg } from '../../proto/wire/index.js';
import { ImuCalibration } from '../../edge/estimation/imu-calibration.js';
import { JointEstimator } from '../../edge/estimation/joint-estimator.js';
import { MahonyFilter } from '../../edge/estimation/mahony-filter.js';
import { newObservation } from '../../edge/estimation/observation.js';
import { StateEstimator, type EstimatorInput } from '../../edge/estimation/state-estimator.js';
import { PlantFeed } from '../../edge/estimation/testing/plant-feed.js';
import { runOrientation } from '../../edge/estimation/testing/orientation-run.js';
import { stats, type BenchResult, type Cell, type Scenario } from './harness.js';

const DEG = 180 / Math.PI;
const SAMPLES = 100_000;
const WARMUP = 10_000;

/** Recorded STATE samples, flat, so replaying one costs a few typed-array copies outside the timing. */
interface Recording {
  n: number;
  flags: number;
  pos: Int32Array;
  vel: Float32Array;
  cur: Float32Array;
  imu: Float32Array; // accel 3, gyro 3, quat 4 per sample
  tUs: Float64Array;
}

function record(profile: RobotProfile, count: number): Recording {
  const feed = new PlantFeed(profile, { seed: 21 });
  const n = profile.joints.length;
  const rec: Recording = { n, flags: 0, pos: new Int32Array(count * n), vel: new Float32Array(count * n), cur: new Float32Array(count * n), imu: new Float32Array(count * 10), tUs: new Float64Array(count) };
  const lo = profile.joints.map((j) => j.limits.positionMin + 0.1);
  const hi = profile.joints.map((j) => j.limits.positionMax - 0.1);
  const zeros = new Array<number>(n).fill(0);
  feed.plant.setBaseAngularVelocity([0.2, -0.1, 0.3]);
  for (let k = 0; k < count; k++) {
    if (k % 1500 === 0) feed.plant.setCommand('position', (k / 1500) % 2 === 0 ? hi : lo, zeros, zeros);
    const m = feed.step().msg;
    rec.flags = m.flags;
    rec.pos.set(m.position.subarray(0, n), k * n);
    rec.vel.set(m.velocity.subarray(0, n), k * n);
    rec.cur.set(m.current.subarray(0, n), k * n);
    rec.imu.set(m.accel, k * 10);
    rec.imu.set(m.gyro, k * 10 + 3);
    rec.imu.set(m.quat, k * 10 + 6);
    rec.tUs[k] = feed.input.mcuTimeUs;
  }
  return rec;
}

function load(rec: Recording, k: number, input: EstimatorInput & { msg: StateMsg }): void {
  const m = input.msg, n = rec.n;
  m.jointCount = n;
  m.flags = rec.flags;
  m.position.set(rec.pos.subarray(k * n, k * n + n));
  m.velocity.set(rec.vel.subarray(k * n, k * n + n));
  m.current.set(rec.cur.subarray(k * n, k * n + n));
  m.accel.set(rec.imu.subarray(k * 10, k * 10 + 3));
  m.gyro.set(rec.imu.subarray(k * 10 + 3, k * 10 + 6));
  m.quat.set(rec.imu.subarray(k * 10 + 6, k * 10 + 10));
  input.mcuTimeUs = rec.tUs[k] as number;
  input.hostTimeUs = (rec.tUs[k] as number) + 5e6;
}

/** µs per call of `fn` for each recorded sample after the warm-up (loading excluded). */
function timePerSample(rec: Recording, count: number, input: EstimatorInput & { msg: StateMsg }, fn: () => void): Float64Array {
  const out = new Float64Array(count - WARMUP);
  for (let k = 0; k < count; k++) {
    load(rec, k, input);
    const t0 = process.hrtime.bigint();
    fn();
    const t1 = process.hrtime.bigint();
    if (k >= WARMUP) out[k - WARMUP] = Number(t1 - t0) / 1000;
  }
  return out;
}

function costRows(profile: RobotProfile, rows: Cell[][], summary: Record<string, number | string | boolean>): void {
  const rec = record(profile, SAMPLES);
  const input = { msg: newState(), mcuTimeUs: 0, hostTimeUs: 0, synced: true };
  const imu = profile.imu;
  if (imu === null) throw new Error('benchmark profile needs an IMU');

  const est = new StateEstimator(profile);
  const whole = stats(timePerSample(rec, SAMPLES, input, () => est.update(input)));

  const cal = new ImuCalibration(imu);
  const filter = new MahonyFilter();
  filter.initFromAccel(0, 0, 9.80665);
  let last = 0;
  const filterOnly = stats(timePerSample(rec, SAMPLES, input, () => {
    cal.apply(input.msg.accel, input.msg.gyro);
    const a = cal.accel, g = cal.gyro;
    filter.update(g[0] as number, g[1] as number, g[2] as number, a[0] as number, a[1] as number, a[2] as number, true, (input.mcuTimeUs - last) * 1e-6);
    last = input.mcuTimeUs;
  }));

  const n = profile.joints.length;
  const joints = new JointEstimator(profile.joints, { position: new Float64Array(n), velocity: new Float64Array(n), effort: new Float64Array(n) }, { velocityWindow: 8, glitchFactor: 1.5, glitchAcceptAfter: 5 });
  const jointsOnly = stats(timePerSample(rec, SAMPLES, input, () => joints.update(input.msg, input.mcuTimeUs)));

  const obs = newObservation(n);
  const readCopy = stats(timePerSample(rec, SAMPLES, input, () => { est.buffer.read(obs); }));
  const empty = stats(timePerSample(rec, SAMPLES, input, () => undefined));

  const label = `${profile.id} (${n} joints${imu.fusedOrientation ? ', fused quat' : ''})`;
  rows.push([`${label}: whole path, µs/sample`, whole.median, whole.p99, whole.max, whole.median / filterOnly.median]);
  rows.push([`${label}: calibration + Mahony alone`, filterOnly.median, filterOnly.p99, filterOnly.max, 1]);
  rows.push([`${label}: joint estimator alone`, jointsOnly.median, jointsOnly.p99, jointsOnly.max, jointsOnly.median / filterOnly.median]);
  rows.push([`${label}: reader copy (buffer.read)`, readCopy.median, readCopy.p99, readCopy.max, readCopy.median / filterOnly.median]);
  rows.push([`${label}: empty call (timer floor)`, empty.median, empty.p99, empty.max, empty.median / filterOnly.median]);
  summary[`${profile.id} whole path p50 µs`] = whole.median;
  summary[`${profile.id} whole path p99 µs`] = whole.p99;
  summary[`${profile.id} share of a 1 kHz period at p99`] = whole.p99 / 1000;
}

interface ErrRow { name: string; rms: number; max: number; tiltRms: number; tiltMax: number }

function orientationRows(profile: RobotProfile): ErrRow[] {
  const still = runOrientation(profile, [{ seconds: 1, measure: false }, { seconds: 10, measure: true }]);
  const turn = runOrientation(profile, [
    { seconds: 1, measure: false },
    { seconds: 10, measure: true, start: (f) => f.plant.setBaseAngularVelocity([0.3, -0.2, 0.6]) },
  ]);
  const fall = runOrientation(profile, [
    { seconds: 1, measure: false },
    { seconds: 2.4, measure: true, start: (f) => f.plant.injectFault({ kind: 'fall' }) },
  ]);
  const mk = (name: string, e: { rms: number; max: number; tiltRms: number; tiltMax: number } | undefined): ErrRow => {
    if (e === undefined) throw new Error('no error stats');
    return { name: `${profile.id}: ${name}`, rms: e.rms * DEG, max: e.max * DEG, tiltRms: e.tiltRms * DEG, tiltMax: e.tiltMax * DEG };
  };
  return [mk('static 10 s', still.errors[0]), mk('rotating [0.3,-0.2,0.6] rad/s, 10 s', turn.errors[0]), mk('fall (0.4 s topple + 8 g impact) to +2 s', fall.errors[0])];
}

export const scenario: Scenario = {
  name: 'estimation',
  description: 'orientation error vs the plant truth (static / rotating / fall) and µs per STATE sample of the estimation path',
  async run(): Promise<BenchResult> {
    const rows: Cell[][] = [];
    const summary: Record<string, number | string | boolean> = {};
    let worstStatic = 0, worstMotion = 0, worstFall = 0;
    for (const id of ['quadruped12', 'arm6-gripper']) {
      for (const r of orientationRows(getProfile(id))) {
        rows.push([`${r.name}: orientation error °`, r.rms, r.max, r.tiltRms, r.tiltMax]);
        if (r.name.includes('static')) worstStatic = Math.max(worstStatic, r.rms);
        else if (r.name.includes('rotating')) worstMotion = Math.max(worstMotion, r.rms);
        else worstFall = Math.max(worstFall, r.rms);
      }
    }
    summary['static RMS ° (worst profile)'] = worstStatic;
    summary['rotating RMS ° (worst profile)'] = worstMotion;
    summary['fall RMS ° (worst profile)'] = worstFall;
    summary['goal static < 1° RMS met'] = worstStatic < 1;
    summary['goal motion < 3° RMS met'] = worstMotion < 3 && worstFall < 3;
    rows.push(['— cost per sample —', 'p50 µs', 'p99 µs', 'max µs', 'x filter alone']);
    for (const id of ['quadruped12', 'arm6-gripper']) costRows(getProfile(id), rows, summary);
    return {
      scenario: 'estimation',
      title: `host orientation filter vs truth at 1 kHz; cost over ${SAMPLES - WARMUP} samples after ${WARMUP} warm-up`,
      columns: ['case', 'RMS ° / p50 µs', 'max ° / p99 µs', 'tilt RMS ° / max µs', 'tilt max ° / x peer'],
      rows,
      summary,
      notes: [
        'orientation error: angle of q_est⁻¹ ⊗ q_true including heading (6-axis IMU: heading drifts only by the residual z bias); tilt: roll/pitch only',
        'the arm publishes the MCU fused quaternion; its rows measure the host filter, which runs as the cross-check',
        'cost: each sample timed alone with process.hrtime.bigint; the empty call row is the timer floor included in every figure',
      ],
    };
  },
};

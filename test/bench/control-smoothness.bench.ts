/**
 * Smoothness at chunk switches, per switching policy, in simulated time (ManualClock): the
 * reference decoder (arm6-gripper, real ONNX runs, with real prefix inpainting) produces chunks
 * delivered 100 ms of simulated time after each request; the control loop ticks at 500 Hz through
 * the same ChunkScheduler the tick worker runs. The goal alternates every 0.6 s, so chunks
 * disagree. Figures: peak joint acceleration and jerk of the commanded targets (finite
 * differences, rad/s² and rad/s³, max over joints), over the whole run and within ±20 ms of a
 * switch. No limits applied (these are the scheduler's own outputs, before the CommandGate).
 */
import { ManualClock } from '../../edge/clock.js';
import { ChunkFeeder } from '../../edge/control/chunk-feeder.js';
import { schedulerTick } from '../../edge/control/chunk-request.js';
import { ChunkScheduler } from '../../edge/control/chunk-scheduler.js';
import { SwitchPolicy } from '../../edge/control/switch-policy.js';
import { InThreadDecoder } from '../../edge/decoder/index.js';
import { DelayedDecoder } from '../../bin/eval/delayed-decoder.js';
import { modelCatalog } from '../../edge/decoder/models/catalog.js';
import { getProfile } from '../../hardware/index.js';
import { encodeGoal, goalRangeFromLimits, referenceGoalLatentDim } from '../../proto/latent/reference-goal.js';
import type { BenchResult, Scenario } from './harness.js';

const PROFILE = 'arm6-gripper';
const PERIOD_MS = 2, STEP_US = 20_000, LATENCY_MS = 100, SIM_S = 6;

async function runPolicy(policy: SwitchPolicy, bytes: Uint8Array): Promise<{ accel: number; jerk: number; accelSw: number; jerkSw: number; switches: number; dropped: number }> {
  const profile = getProfile(PROFILE);
  const n = profile.joints.length;
  const range = goalRangeFromLimits(profile.joints.map((j) => j.limits.positionMin), profile.joints.map((j) => j.limits.positionMax));
  const clock = new ManualClock(0);
  const inner = await InThreadDecoder.load(bytes);
  // Runs the decoder now (real time, simulated time frozen) and delivers LATENCY_MS of simulated time later.
  const dec = new DelayedDecoder(inner, clock, LATENCY_MS);
  let goalIdx = 0;
  const goals = [new Array<number>(n).fill(0.3), new Array<number>(n).fill(-0.3)];
  const latent = new Float32Array(referenceGoalLatentDim(n));
  const feeder = new ChunkFeeder(dec, () => encodeGoal({ position: goals[goalIdx % 2] as number[], stepsToGoal: 20 }, range, latent), n);
  const sched = new ChunkScheduler({ jointCount: n, horizon: inner.info.spec.horizon, stepUs: STEP_US, policy, initialLatencyUs: LATENCY_MS * 1000, latencyMarginUs: 10_000 });
  const out = new Float64Array(n), obs = new Float64Array(n);
  const traj: Float64Array[] = [];
  const switches: number[] = [];
  for (let t = 0; t < SIM_S * 1e6; t += PERIOD_MS * 1000) {
    await clock.advanceAsync(PERIOD_MS);
    await Promise.all(dec.inflight);
    await clock.advanceAsync(0);
    const now = clock.nowUs();
    goalIdx = Math.floor(now / 600_000);
    const ok = schedulerTick(sched, now, out, obs, now - 1000, (req) => {
      void feeder.run(req).then((res) => {
        if (res.status === 'chunk') { if (sched.accept(res.actions, res.originUs, clock.nowUs())) switches.push(clock.nowUs()); }
        else sched.requestFailed(clock.nowUs());
      });
    });
    if (ok) { obs.set(out); traj.push(Float64Array.from(out)); } else if (traj.length > 0) traj.push(Float64Array.from(obs));
  }
  await inner.close();
  const dt = PERIOD_MS / 1000;
  let accel = 0, jerk = 0, accelSw = 0, jerkSw = 0;
  const t0 = SIM_S * 1e6 - traj.length * PERIOD_MS * 1000;
  for (let k = 3; k < traj.length; k++) {
    const near = switches.some((s) => Math.abs(t0 + k * PERIOD_MS * 1000 - s) <= 20_000);
    for (let j = 0; j < n; j++) {
      const q = (i: number): number => (traj[k - i] as Float64Array)[j] as number;
      const a = Math.abs((q(0) - 2 * q(1) + q(2)) / (dt * dt));
      const jk = Math.abs((q(0) - 3 * q(1) + 3 * q(2) - q(3)) / (dt * dt * dt));
      accel = Math.max(accel, a); jerk = Math.max(jerk, jk);
      if (near) { accelSw = Math.max(accelSw, a); jerkSw = Math.max(jerkSw, jk); }
    }
  }
  return { accel, jerk, accelSw, jerkSw, switches: switches.length, dropped: sched.droppedRows };
}

export const scenario: Scenario = {
  name: 'control-smoothness',
  description: 'peak joint acceleration and jerk at chunk switches for each switching policy, 100 ms decode latency (simulated time)',
  async run(): Promise<BenchResult> {
    const entry = modelCatalog().find((e) => e.name === `reference-${PROFILE}-velocity`);
    if (!entry) throw new Error('reference model missing');
    const bytes = entry.build();
    const rows: (string | number)[][] = [];
    const summary: Record<string, number> = {};
    for (const p of Object.values(SwitchPolicy)) {
      const r = await runPolicy(p, bytes);
      rows.push([p, r.switches, r.dropped, r.accel, r.accelSw, r.jerk, r.jerkSw]);
      summary[`${p}_peak_jerk_at_switch`] = r.jerkSw;
    }
    return {
      scenario: 'control-smoothness',
      title: `chunk switching at 500 Hz, ${LATENCY_MS} ms decode latency, reference decoder (${PROFILE}), ${SIM_S} s simulated`,
      columns: ['policy', 'switches', 'rows dropped', 'peak acc rad/s²', 'acc ±20ms of switch', 'peak jerk rad/s³', 'jerk ±20ms of switch'],
      rows,
      summary,
      notes: ['targets before the CommandGate (limits would clamp them); the goal flips every 0.6 s so chunks disagree'],
    };
  },
};

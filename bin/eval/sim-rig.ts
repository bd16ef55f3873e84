/**
 * One eval run in simulated time: a virtual robot (the plant and the MCU firmware logic of
 * firmware-shim/virtual, through its public API) on an in-memory serial line; the edge's
 * SerialLink, StateEstimator, SafetySupervisor, ChunkScheduler, ChunkFeeder and CommandGate; the
 * real decoder with its latency injected; the reference brain with its round trip injected. All of
 * it on one ManualClock, so a run is deterministic (same seed, same figures) and runs faster than
 * real time.
 *
 * The control tick here is the tick worker's loop body on this thread (read the observation,
 * schedulerTick, hand the target to the gate), because the worker sleeps on real deadlines and
 * cannot be stepped; everything it calls is the shipping code.
 */
import { ManualClock } from '../../edge/clock.js';
import { ChunkFeeder, type ChunkFeederOptions } from '../../edge/control/chunk-feeder.js';
import { schedulerTick, type NextChunkRequest } from '../../edge/control/chunk-request.js';
import { ChunkScheduler } from '../../edge/control/chunk-scheduler.js';
import { SwitchPolicy } from '../../edge/control/switch-policy.js';
import { InThreadDecoder, robotDimsFromProfile } from '../../edge/decoder/index.js';
import { newObservation } from '../../edge/estimation/observation.js';
import { StateEstimator } from '../../edge/estimation/state-estimator.js';
import { buildHello } from '../../edge/cloud-link/hello-message.js';
import { CommandGate } from '../../edge/safety/command-gate.js';
import { SafetySupervisor } from '../../edge/safety/safety-supervisor.js';
import { SafetyState } from '../../edge/safety/safety-state.js';
import { bindSupervisor } from '../../edge/safety/supervisor-bindings.js';
import { MemoryTransport } from '../../edge/serial/memory-transport.js';
import { SerialLink } from '../../edge/serial/serial-link.js';
import { Mcu } from '../../firmware-shim/virtual/index.js';
import { getProfile, Plant } from '../../hardware/index.js';
import { decodeGoal, goalRangeFromLimits } from '../../proto/latent/reference-goal.js';
import { DelayedDecoder } from './delayed-decoder.js';
import type { EvalCondition, EvalTask, PlanGoal, TraceRow } from './eval-types.js';
import { SimBrain } from './sim-brain.js';
import { taskDurationS } from './task-time.js';

export interface ControlSettings {
  rateHz: number;
  stepMs: number;
  initialLatencyMs: number;
  feeder: ChunkFeederOptions;
  observationRateHz: number;
  planValidityMs: number;
}

export interface RunTrace {
  rows: TraceRow[];
  goals: PlanGoal[];
  /** µs of the first plan's arrival; NaN when none arrived. */
  firstPlanUs: number;
  holds: number;
  /** HOLDs by the supervisor's cause ('chunk-exhausted', 'plan-expired', ...). */
  holdCauses: Record<string, number>;
  plansLost: number;
  periodS: number;
}

/** Synchronous execution: the next chunk is asked for only once the last has run out, and it
 * starts where it arrives (its rows are not aligned to a past observation). */
class StopAndGoScheduler extends ChunkScheduler {
  override leadUs(): number { return 0; }
  override accept(actions: ArrayLike<number>, _originUs: number, nowUs: number): boolean {
    return super.accept(actions, nowUs - this.stepUs, nowUs);
  }
}

export async function runTask(task: EvalTask, cond: EvalCondition, decoderBytes: Uint8Array, settings: ControlSettings): Promise<RunTrace> {
  const clock = new ManualClock(1_000_000);
  const profile = getProfile(task.profile);
  const n = profile.joints.length;
  const start = task.startPose ?? (profile.poses['home'] as number[]);
  const plant = new Plant(profile, { seed: cond.seed, initialPose: start });

  let mcu: Mcu | null = null;
  let mcuTimer: ReturnType<ManualClock['setTimeout']> | null = null;
  const link = new SerialLink({
    path: 'sim://eval', profile, clock, software: { major: 0, minor: 0, patch: 0 }, random: () => 0.5,
    transportFactory: (path, baud) => {
      const t = new MemoryTransport(path, baud);
      const m = new Mcu({ profile, plant, send: (bytes, length) => t.farWrite(bytes.subarray(0, length)) });
      t.onFarData((b) => m.handleBytes(b, clock.nowUs()));
      m.boot(clock.nowUs());
      mcu = m;
      const tick = (): void => { mcuTimer = clock.setTimeout(tick, 1); m.tick(clock.nowUs()); };
      mcuTimer = clock.setTimeout(tick, 1);
      return t;
    },
  });
  const estimator = new StateEstimator(profile);
  link.on('state', (ev) => estimator.update(ev));
  const supervisor = new SafetySupervisor(link, clock, {});
  const unbind = bindSupervisor(supervisor, link, estimator);

  const inner = await InThreadDecoder.load(decoderBytes, { robot: robotDimsFromProfile(profile) });
  const decoder = new DelayedDecoder(inner, clock, cond.decoderLatencyMs);
  const spec = inner.info.spec;
  let latent: Float32Array | null = null;
  const feeder = new ChunkFeeder(decoder, () => latent, n, settings.feeder);
  const stepUs = settings.stepMs * 1000;
  const schedOpts = {
    jointCount: n, horizon: spec.horizon, stepUs, initialLatencyUs: settings.initialLatencyMs * 1000,
    policy: cond.execution === 'stop-and-go' ? SwitchPolicy.HARD : cond.execution,
  };
  const sched = cond.execution === 'stop-and-go' ? new StopAndGoScheduler(schedOpts) : new ChunkScheduler(schedOpts);
  const periodMs = 1000 / settings.rateHz;
  const gate = new CommandGate(profile, link, supervisor, clock, periodMs);
  supervisor.on('transition', (ev) => { if (ev.to === SafetyState.ESTOP || ev.to === SafetyState.FAULT) sched.reset(); });
  let holds = 0;
  const holdCauses: Record<string, number> = {};
  supervisor.on('transition', (ev) => {
    if (ev.to !== SafetyState.HOLD) return;
    holds++;
    holdCauses[ev.cause] = (holdCauses[ev.cause] ?? 0) + 1;
  });

  const range = goalRangeFromLimits(profile.joints.map((j) => j.limits.positionMin), profile.joints.map((j) => j.limits.positionMax));
  const goals: PlanGoal[] = [];
  let lastCapture = -Infinity;
  let firstPlanUs = Number.NaN;
  const snap = newObservation(n);
  const hello = buildHello({
    robotId: 'eval', softwareVersion: '0.0.0', profile, cameraIds: [],
    decoder: { latentSpace: spec.latentSpace, latentDim: spec.latentDim, stateDim: spec.stateDim, actionDim: spec.actionDim, horizon: spec.horizon, controlHz: 1000 / settings.stepMs },
  });
  const brain = new SimBrain({
    clock, hello, instruction: task.instruction, observationRateHz: settings.observationRateHz,
    latencyMs: cond.brainLatencyMs, jitterMs: cond.brainJitterMs, planLoss: cond.planLoss, validityMs: settings.planValidityMs, seed: cond.seed,
    observe: (out) => { if (!estimator.read(snap) || snap.sampleCount === 0) return false; out.set(snap.position.subarray(0, n)); return true; },
    onPlan: (p) => {
      if (p.captureUs <= lastCapture) return; // an older plan overtaken by a newer one (the cloud link refuses it)
      lastCapture = p.captureUs;
      latent = p.latent;
      supervisor.planReceived(p.expiresAtUs);
      if (Number.isNaN(firstPlanUs)) firstPlanUs = p.arrivedUs;
      const g = decodeGoal(p.latent, range);
      const prev = goals[goals.length - 1];
      if (prev === undefined || prev.goal.some((q, j) => Math.abs(q - (g.position[j] as number)) > 1e-4)) {
        goals.push({ arrivedUs: p.arrivedUs, captureUs: p.captureUs, from: Float64Array.from(gate.lastSent.count > 0 ? gate.lastSent.position : snap.position.subarray(0, n)), goal: Float64Array.from(g.position), timeS: g.stepsToGoal * settings.stepMs / 1000 });
      }
      if (supervisor.state === SafetyState.IDLE) supervisor.resume({ id: 'eval', role: 'operator' });
    },
  });

  const rows: TraceRow[] = [];
  const obs = newObservation(n);
  const out = new Float64Array(n);
  const onRequest = (req: NextChunkRequest): void => {
    void feeder.run(req).then((r) => {
      const t = clock.nowUs();
      if (r.status === 'chunk') { sched.accept(r.actions, r.originUs, t); return; }
      sched.requestFailed(t);
      if (r.status === 'failed') { if (r.badNumbers) supervisor.badNumbers(r.detail); else supervisor.decoderFailed(r.detail); }
    });
  };
  const controlTick = (): void => {
    controlTimer = clock.setTimeout(controlTick, periodMs);
    const now = clock.nowUs();
    const obsTimeUs = estimator.read(obs) && obs.sampleCount > 0 ? obs.hostTimeUs : 0;
    const ok = schedulerTick(sched, now, out, obs.position, obsTimeUs, onRequest);
    gate.submit(ok ? out : null, obsTimeUs > 0 ? obs.position : null);
    const s = gate.lastSent;
    let flags = 0;
    for (let j = 0; j < n; j++) flags |= s.clampFlags[j] as number;
    rows.push({
      tUs: now, sent: s.count > 0 ? Float64Array.from(s.position) : new Float64Array(n).fill(Number.NaN),
      sentVelocity: Float64Array.from(s.velocity), measured: Float64Array.from(obs.position.subarray(0, n)),
      clampFlags: s.atUs === now ? flags : 0, active: supervisor.state === SafetyState.ACTIVE,
    });
  };
  let controlTimer = clock.setTimeout(controlTick, periodMs);

  link.start();
  brain.start();
  const endUs = clock.nowUs() + taskDurationS(task, cond, settings.observationRateHz) * 1e6;
  while (clock.nowUs() < endUs) {
    await clock.advanceAsync(1);
    while (decoder.inflight.size > 0) {
      await Promise.all(decoder.inflight);
      await clock.advanceAsync(0);
    }
  }
  brain.stop();
  clock.clearTimeout(controlTimer);
  if (mcuTimer !== null) clock.clearTimeout(mcuTimer);
  void mcu;
  unbind();
  supervisor.dispose();
  await link.stop();
  await decoder.close();
  return { rows, goals, firstPlanUs, holds, holdCauses, plansLost: brain.plansLost, periodS: periodMs / 1000 };
}

/**
 * One eval run in real time, through the whole edge daemon: the virtual firmware (`spinal sim`:
 * the C MCU core in WebAssembly and the plant) in its own process on a pseudo-terminal, tethered
 * so it dies with this process; the edge daemon as `spinal edge --config` composes it (tick
 * thread on the wire, worker decoder, supervisor, cloud link) in this process; the reference brain
 * server in this process, reached through a loopback proxy that adds the injected round trip and
 * jitter (delay-proxy.ts). The run records what the daemon sent (the gate's lastSent, read from
 * the tick thread's shared memory every millisecond) and what the estimator measured, and yields
 * the same trace as the simulated rig (sim-rig.ts), so the same figures, report and plots follow.
 *
 * Differences from simulated time, by construction: the decoder is the daemon's own (its real
 * latency; 'dit-s' and stop-and-go, which the daemon does not run, are refused), the figures
 * depend on the machine's load, and a command the sampler missed (the main thread late by more
 * than a tick) leaves a gap that jerk is not computed across (TraceRow.gap).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { parseEdgeConfig } from '../../edge/config.js';
import { startEdgeDaemon, type EdgeDaemon } from '../../edge/daemon.js';
import type { SwitchPolicy } from '../../edge/control/switch-policy.js';
import { newObservation } from '../../edge/estimation/observation.js';
import { spawnNodeChild } from '../../edge/process/tethered-child.js';
import { SafetyState } from '../../edge/safety/safety-state.js';
import { getProfile } from '../../hardware/index.js';
import { decodeGoal, goalRangeFromLimits } from '../../proto/latent/reference-goal.js';
import { DelayProxy } from './delay-proxy.js';
import type { EvalCondition, EvalTask, PlanGoal, TraceRow } from './eval-types.js';
import type { ControlSettings, RunTrace } from './sim-rig.js';
import { DECODER_LATENCY_MS } from './suite.js';
import { taskDurationS } from './task-time.js';

/** The compiled CLI: beside this file once built, else the repository's dist/ (tests run the sources). */
function spinalCli(): string {
  for (const u of [new URL('../spinal.js', import.meta.url), new URL('../../dist/bin/spinal.js', import.meta.url)]) {
    const p = fileURLToPath(u);
    if (existsSync(p)) return p;
  }
  throw new Error('spinal eval --mode real-time needs the compiled CLI (dist/bin/spinal.js): run `npm run build`');
}

/** STATE rate of the virtual firmware in real-time runs (the daemon's control runs at 200 Hz). */
const SIM_STATE_HZ = 500;
const SAMPLE_MS = 1;
/** A run without a plan for its task by then ends (and fails). */
const FIRST_PLAN_WAIT_MS = 30_000;

async function until(what: string, pred: () => boolean, ms: number, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`real-time eval: timed out after ${ms} ms waiting for ${what}${detail()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `spinal sim` in a tethered child; resolves with the child and the tty path it prints first. */
async function startSim(profile: string, seed: number): Promise<{ child: ChildProcess; tty: string }> {
  const child = spawnNodeChild([spinalCli(), 'sim', '--profile', profile, '--rate', String(SIM_STATE_HZ), '--seed', String(seed)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const tty = await new Promise<string>((resolve, reject) => {
    const out = child.stdout;
    if (out === null) return reject(new Error('spinal sim: no stdout'));
    const rl = createInterface({ input: out });
    // Loading the CLI took 30 s on the shared 2-core machine at a load average of 20.
    const t = setTimeout(() => reject(new Error('spinal sim printed no tty path within 120 s')), 120_000);
    rl.once('line', (l) => { clearTimeout(t); resolve(l.trim()); });
    child.once('exit', (code, sig) => { clearTimeout(t); reject(new Error(`spinal sim exited (${code ?? sig}) before printing its tty`)); });
  });
  return { child, tty };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

export function realtimeSupported(cond: EvalCondition): string | null {
  if (cond.execution === 'stop-and-go') return 'stop-and-go is the simulated peer; the daemon has no such policy';
  if (cond.decoder !== 'reference') return `decoder ${cond.decoder}: the real-time mode runs the daemon's own reference decoder`;
  if (cond.planLoss > 0) return 'plan loss is injected only in simulated time';
  if (cond.decoderLatencyMs !== DECODER_LATENCY_MS.reference) return `decoder latency ${cond.decoderLatencyMs} ms is injected only in simulated time`;
  return null;
}

export interface RealtimeTrace extends RunTrace {
  /** Commands the daemon sent during the run, and how many of them the sampler saw. */
  commandsSent: number;
  commandsSeen: number;
  /** Commands the gate clamped (any limit), from its own counter: also those the sampler missed. */
  clampedCommands: number;
}

export async function runTaskRealtime(task: EvalTask, cond: EvalCondition, settings: ControlSettings): Promise<RealtimeTrace> {
  const why = realtimeSupported(cond);
  if (why !== null) throw new RangeError(`real-time eval: ${why}`);
  const profile = getProfile(task.profile);
  const n = profile.joints.length;
  const robotId = 'eval';
  let sim: ChildProcess | null = null;
  let brain: BrainServer | null = null;
  let proxy: DelayProxy | null = null;
  let daemon: EdgeDaemon | null = null;
  let sampler: NodeJS.Timeout | null = null;
  try {
    const s = await startSim(task.profile, cond.seed);
    sim = s.child;
    brain = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: [robotId], backend: new ReferenceBackend(), planValidityMs: settings.planValidityMs, drainTimeoutMs: 200 });
    proxy = await DelayProxy.start({ targetPort: brain.port, latencyMs: cond.brainLatencyMs, jitterMs: cond.brainJitterMs, seed: cond.seed });
    const config = parseEdgeConfig({
      robot: { id: robotId, profile: task.profile },
      // The MCU's host watchdog as the demo and the hold e2e give it: the daemon's start-up (decoder,
      // tick thread) on a loaded machine otherwise leaves the host silent long enough for an MCU stop.
      serial: { path: s.tty, stateRateHz: SIM_STATE_HZ, watchdogMs: 500 },
      control: { rateHz: settings.rateHz, stepMs: settings.stepMs, initialLatencyMs: settings.initialLatencyMs, policy: cond.execution as SwitchPolicy },
      cloud: { target: `127.0.0.1:${proxy.port}`, observationRateHz: settings.observationRateHz },
    }, 'spinal eval --mode real-time');
    daemon = await startEdgeDaemon(config, pino({ level: 'silent' }));
    const d = daemon;
    const holdCauses: Record<string, number> = {};
    let holds = 0;
    const transitions: string[] = [];
    d.supervisor.on('transition', (e) => {
      transitions.push(`${e.to} (${e.cause})`);
      if (e.to !== SafetyState.HOLD) return;
      holds++;
      holdCauses[e.cause] = (holdCauses[e.cause] ?? 0) + 1;
    });
    const why = (): string => `; link ${d.link.state}, safety ${d.supervisor.state}, cloud ${d.cloud?.linkState ?? '-'}; transitions: ${transitions.join(', ')}`;
    await until('serial READY, safety IDLE and the cloud session ACTIVE',
      () => d.link.state === 'READY' && d.supervisor.state === SafetyState.IDLE && d.supervisor.mcuLatch !== 'unknown' && d.cloud?.linkState === 'ACTIVE', 30_000, why);

    const range = goalRangeFromLimits(profile.joints.map((j) => j.limits.positionMin), profile.joints.map((j) => j.limits.positionMax));
    const goals: PlanGoal[] = [];
    let firstPlanUs = Number.NaN;
    const snap = newObservation(n);
    const taskId = (await brain.setTask(robotId, task.instruction)).taskId;
    d.cloud?.on('plan', (p) => {
      if (p.taskId !== taskId) return;
      if (Number.isNaN(firstPlanUs)) firstPlanUs = p.receivedUs;
      const g = decodeGoal(p.latent, range);
      const prev = goals[goals.length - 1];
      if (prev === undefined || prev.goal.some((q, j) => Math.abs(q - (g.position[j] as number)) > 1e-4)) {
        const sent = d.loop.gate.lastSent;
        d.estimator.read(snap);
        goals.push({ arrivedUs: p.receivedUs, captureUs: p.captureUs, from: Float64Array.from(sent.count > 0 ? sent.position : snap.position.subarray(0, n)), goal: Float64Array.from(g.position), timeS: g.stepsToGoal * settings.stepMs / 1000 });
      }
      if (d.supervisor.state === SafetyState.IDLE) d.supervisor.resume({ id: 'spinal-eval', role: 'operator' });
    });

    const rows: TraceRow[] = [];
    // The run's length counts from the first plan of the task (in simulated time it counts from the
    // brain's start, which sees an observation at once): a loaded machine may take a second or more
    // to bring the first plan, and the run must not lose its hold to that.
    const durationUs = taskDurationS(task, cond, settings.observationRateHz) * 1e6;
    const noPlanByUs = performance.now() * 1000 + FIRST_PLAN_WAIT_MS * 1000;
    const firstCount = d.loop.gate.lastSent.count;
    let lastCount = firstCount;
    const firstClamped = d.loop.gate.lastSent.clampedCommands;
    const obs = newObservation(n);
    const nan = (): Float64Array => new Float64Array(n).fill(Number.NaN);
    await new Promise<void>((resolve) => {
      sampler = setInterval(() => {
        const ls = d.loop.gate.lastSent;
        if (ls.count !== lastCount) {
          const have = d.estimator.read(obs) && obs.sampleCount > 0;
          let flags = 0;
          for (let j = 0; j < n; j++) flags |= ls.clampFlags[j] as number;
          rows.push({
            tUs: ls.atUs, sent: Float64Array.from(ls.position), sentVelocity: Float64Array.from(ls.velocity),
            measured: have ? Float64Array.from(obs.position.subarray(0, n)) : nan(), clampFlags: flags,
            active: d.supervisor.state === SafetyState.ACTIVE, gap: ls.count - lastCount > 1,
          });
          lastCount = ls.count;
        }
        const now = performance.now() * 1000;
        if (Number.isNaN(firstPlanUs) ? now >= noPlanByUs : now >= firstPlanUs + durationUs) resolve();
      }, SAMPLE_MS);
    });
    if (sampler !== null) clearInterval(sampler);
    sampler = null;
    return {
      rows, goals, firstPlanUs, holds, holdCauses, plansLost: 0, periodS: 1 / settings.rateHz,
      commandsSent: lastCount - firstCount, commandsSeen: rows.length, clampedCommands: d.loop.gate.lastSent.clampedCommands - firstClamped,
    };
  } finally {
    if (sampler !== null) clearInterval(sampler);
    await daemon?.close();
    await brain?.stop();
    await proxy?.close();
    if (sim !== null) await stopChild(sim);
  }
}

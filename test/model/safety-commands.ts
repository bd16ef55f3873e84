/**
 * What the model-based safety test does to the composed system (model-rig.ts), as fast-check
 * commands: random interleavings of every stop source and category, resets (authorised,
 * unauthorised, malformed, retained, stale), ACKs delayed or lost, resumes, plans arriving,
 * lapsing and malformed, impossible STATE values, MCU reboots (fast: within the link timeout;
 * slow: beyond it), link loss and return (silence, unplug), the fleet latch set and released, the
 * MCU's button, and SIGTERM. After every command the invariants (safety-invariants.ts) are checked;
 * after a long wait also those that need a quiet line.
 *
 * The model is only what the generator needs (whether SIGTERM happened): the system's correct
 * behaviour is stated by the invariants, not re-implemented here.
 */
import fc from 'fast-check';
import { isMotion, SafetyRig } from './model-rig.js';
import { QUIET_MS, SafetyInvariants } from './safety-invariants.js';

export interface Model {
  shutDown: boolean;
}

export interface Real {
  rig: SafetyRig;
  inv: SafetyInvariants;
}

type Cmd = fc.AsyncCommand<Model, Real>;

/** A command: its label (shown in a counterexample) and what it does. */
function cmd(label: string, run: (r: SafetyRig) => void | Promise<void>, opts: { wait?: boolean; terminal?: boolean } = {}): Cmd {
  return {
    check: (m) => !m.shutDown,
    async run(m, real) {
      const { rig, inv } = real;
      if (!opts.wait) rig.lastDisturbanceUs = rig.nowUs;
      await run(rig);
      if (!opts.wait) rig.lastDisturbanceUs = rig.nowUs;
      if (opts.terminal) m.shutDown = true;
      await rig.step(2); // let what was just done reach the wire
      inv.afterStep();
      if (opts.wait) inv.whenQuiet();
    },
    toString: () => label,
  };
}

const category = fc.constantFrom<0 | 1 | 2 | 'malformed'>(0, 1, 2, 'malformed');

/** The commands, weighted so that sequences often get back to ACTIVE (where a bug can move the
 * robot) and still reach every fault. */
export function commandArb(): fc.Arbitrary<Cmd> {
  const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> => ({ weight, arbitrary });
  return fc.oneof(
    w(6, fc.integer({ min: 1, max: 120 }).map((ms) => cmd(`wait(${ms})`, (r) => r.step(ms), { wait: true }))),
    w(2, fc.constant(cmd(`wait(${QUIET_MS + 50})`, (r) => r.step(QUIET_MS + 50), { wait: true }))),
    w(4, fc.tuple(fc.constantFrom<'robot' | 'fleet'>('robot', 'robot', 'fleet'), category).map(([scope, c]) => cmd(`estop(${scope}, ${String(c)})`, (r) => { r.estop(scope, c); }))),
    w(1, fc.constant(cmd('releaseFleet()', (r) => r.releaseFleet()))),
    w(2, fc.constantFrom<'operator' | 'viewer' | 'malformed' | 'retained' | 'stale'>('operator', 'operator', 'viewer', 'malformed', 'retained', 'stale')
      .map((k) => cmd(`reset(${k})`, (r) => r.reset(k)))),
    w(2, fc.constantFrom<'operator' | 'viewer' | 'retained'>('operator', 'operator', 'viewer', 'retained').map((k) => cmd(`resume(${k})`, (r) => r.resume(k)))),
    w(2, fc.constantFrom(-5, 80, 400, 3000).map((ms) => cmd(`plan(${ms})`, (r) => r.plan(ms)))),
    // What an operator does to get going again: clear what holds the robot, reset, wait for a
    // plan, resume.
    w(6, fc.integer({ min: 0, max: 40 }).map((gap) => cmd(`recover(${gap})`, async (r) => {
      if (r.fleetLatchExpected) r.releaseFleet();
      r.releaseButton();
      r.supervisor.tiltCleared();
      r.reset('operator');
      await r.step(gap);
      r.plan(3000);
      await r.step(3);
      r.resume('operator');
    }))),
    w(1, fc.integer({ min: 1, max: 3 }).map((n) => cmd(`badActions(${n})`, (r) => r.badActions(n)))),
    w(2, fc.oneof(fc.integer({ min: 1, max: 400 }).map((ms) => ({ kind: 'delay' as const, ms })), fc.constant({ kind: 'drop' as const }))
      .map((f) => cmd(`ackFault(${f.kind === 'drop' ? 'drop' : `delay ${f.ms}`})`, (r) => r.ackFault(f)))),
    // Fast: back before the link timeout (3 × watchdog); slow: after it.
    w(2, fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 400, max: 900 })).map((ms) => cmd(`reboot(${ms})`, (r) => r.reboot(ms)))),
    w(1, fc.integer({ min: 5, max: 500 }).map((ms) => cmd(`silence(${ms})`, (r) => r.silence(ms)))),
    w(1, fc.integer({ min: 5, max: 500 }).map((ms) => cmd(`unplug(${ms})`, (r) => r.unplug(ms)))),
    w(1, fc.constant(cmd('pressButton()', (r) => r.pressButton()))),
    w(1, fc.constant(cmd('releaseButton()', (r) => r.releaseButton()))),
    w(1, fc.constant(cmd('fall()', (r) => { r.fall(); }))),
    w(1, fc.constant(cmd('tiltCleared()', (r) => r.supervisor.tiltCleared()))),
    w(1, fc.constant(cmd('controlFailed()', (r) => { r.controlFailed(); }))),
    w(2, fc.constantFrom<'nan-velocity' | 'absurd-velocity' | 'nan-current' | 'position-jump'>('nan-velocity', 'absurd-velocity', 'nan-current', 'position-jump')
      .map((k) => cmd(`corrupt(${k})`, (r) => r.corruptState(k)))),
    w(1, fc.constant(cmd('sigterm()', (r) => r.shutdown(), { terminal: true }))),
  );
}

/** Starts a rig and lets it handshake (READY, supervisor IDLE). */
export async function startReal(seed: number): Promise<Real> {
  const rig = new SafetyRig(seed);
  await rig.step(60);
  return { rig, inv: new SafetyInvariants(rig) };
}

export interface ModelRunOptions {
  /** Commands per sequence, at most. */
  maxCommands: number;
  /** fast-check's replayPath of a reported counterexample (with its seed and path, to replay it). */
  replayPath?: string;
  /** Told of each sequence run (for the benchmark's figures). */
  onSequence?: (s: SequenceStats) => void;
}

export interface SequenceStats {
  commands: number;
  /** Simulated time, ms. */
  simulatedMs: number;
  wallMs: number;
  motionCommands: number;
  transitions: number;
}

/** The property: any sequence of commands keeps every invariant. */
export function safetyProperty(opts: ModelRunOptions): fc.IAsyncPropertyWithHooks<[Iterable<Cmd>, number]> {
  return fc.asyncProperty(fc.commands([commandArb()], { maxCommands: opts.maxCommands, size: '+1', ...(opts.replayPath !== undefined ? { replayPath: opts.replayPath } : {}) }), fc.integer({ min: 1, max: 1000 }), async (cmds, seed) => {
    const t0 = performance.now();
    const real = await startReal(seed);
    let n = 0;
    for (const c of cmds) { void c; n++; }
    await fc.asyncModelRun(() => ({ model: { shutDown: false }, real }), cmds);
    // The end of every sequence: a quiet line, checked.
    if (!real.rig.shutDown) {
      await real.rig.step(QUIET_MS + 50);
      real.inv.afterStep();
      real.inv.whenQuiet();
    }
    const r = real.rig;
    opts.onSequence?.({
      commands: n, simulatedMs: r.nowUs / 1000, wallMs: performance.now() - t0,
      motionCommands: r.wire.filter(isMotion).length, transitions: r.transitions.length,
    });
  });
}

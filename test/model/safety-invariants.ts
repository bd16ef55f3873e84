/**
 * The safety invariants of the edge, in one place: each in words, then in code, checked against
 * what a SafetyRig recorded (model-rig.ts). The model-based test (safety.model.test.ts) and its
 * benchmark run them after every step of a random sequence; a violation throws an Error naming the
 * invariant and the records that break it.
 *
 * Vocabulary:
 * - a *motion command* is a COMMAND on the wire whose mode moves the joints (POSITION, VELOCITY,
 *   CURRENT); HOLD and DISABLE are not;
 * - a *stop* is a stop request the host knows of: an e-stop message, a fall, a control failure,
 *   SIGTERM, or a stop the supervisor raised itself (link lost, MCU e-stop or latch, MCU fault,
 *   dead-man), i.e. every supervisor transition to ESTOP or FAULT and every stop while latched;
 * - a *completed reset* is the supervisor's ESTOP|FAULT → IDLE transition (cause 'reset');
 * - an *operator resume* is its IDLE|HOLD → ACTIVE transition with cause 'resume';
 * - the line is *quiet* when the link has been READY for LINK_SETTLE_MS, no RESET is in flight,
 *   the MCU is powered and its frames reach the host unaltered, and the model has done nothing but
 *   wait for QUIET_MS.
 * Everything the rig records carries `ord`, its place in one order of events, so "after" is exact.
 */
import { isMotion, type SafetyRig, type WireRecord } from './model-rig.js';

/** How long the model must only have waited for the line to count as quiet, ms (a re-latch, a
 * dropped ACK's timeout and a reconnect all fit in it). */
export const QUIET_MS = 700;

/** How long the link must have been in its present state (READY) for the line to count as quiet,
 * ms: a link that has just handshaken has not yet delivered a STATE. */
export const LINK_SETTLE_MS = 100;

/** rad: how far the first motion command after a break in the command reference may be from where
 * the joints truly are (the limiter starts from the measurement at rest: one tick of acceleration,
 * plus the estimate's age at the STATE rate and the hold servo's error). An old target replayed
 * (a snap back) is tenths of a radian away. */
const FIRST_COMMAND_TOLERANCE_RAD = 0.03;

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

function fail(invariant: string, detail: string): never {
  throw new InvariantViolation(`${invariant}: ${detail}`);
}

function lastBefore(ords: readonly number[], ord: number): number {
  let best = -1;
  for (const o of ords) if (o < ord && o > best) best = o;
  return best;
}

function describe(r: WireRecord): string {
  return `COMMAND mode ${r.mode} at ${(r.atUs / 1000).toFixed(0)} ms (ord ${r.ord}, supervisor ${r.state}, rad [${r.rad.map((x) => x.toFixed(3)).join(', ')}], truth [${r.truth.map((x) => x.toFixed(3)).join(', ')}])`;
}

/** Checks everything recorded since the last call (motion commands are checked once each). */
export class SafetyInvariants {
  private checkedWire = 0;
  private checkedResets = 0;
  private checkedRequests = 0;

  constructor(private readonly rig: SafetyRig) {}

  /** After every step of a sequence. */
  afterStep(): void {
    this.motionOnlyAfterResetPlanAndResume();
    this.resetNeverClearsALaterStop();
    this.oneEventPerStopRequest();
    this.oneAnswerPerResume();
    this.summaryMatchesSupervisor();
  }

  /** After a wait long enough for the line to be quiet (when it is). */
  whenQuiet(): void {
    const r = this.rig;
    const quiet = r.lineHealthy && r.link.state === 'READY' && !r.supervisor.resetPending && !r.shutDown
      && r.nowUs - r.undisturbedSinceUs >= QUIET_MS * 1000
      && r.nowUs - (r.linkEvents.at(-1)?.atUs ?? 0) >= LINK_SETTLE_MS * 1000;
    if (!quiet) return;
    this.latchMirrorsMcu();
    this.oneAnswerPerReset();
  }

  /**
   * 1. No motion command reaches the wire while any stop requested after the last completed reset
   *    is outstanding, and none after a reset until a fresh plan and an explicit resume.
   *    For every motion command: the supervisor is not latched; every stop before it is followed
   *    by a completed reset, then an operator resume, both before it; and a plan arrived after
   *    the last stop (a plan from before a stop is not fresh).
   * 4. After an MCU reboot the robot does not move until an operator resumes it, and the first
   *    command after the resume starts from the measured position: an operator resume lies
   *    between the host learning of a reboot (the link's 'restarted', from a HELLO or an
   *    unconfigured STATE while READY; a slow reboot is a lost link, a stop) and any later motion
   *    command; and the first motion command after any break in the command reference (a stop, a
   *    reset, a restart, a link state change) is within FIRST_COMMAND_TOLERANCE_RAD of the joints'
   *    true position and of the estimate. Commands written between the MCU's boot and its HELLO
   *    reaching the host cannot be helped by the host: the firmware obeys no motion command before
   *    its CONFIG (SPEC §4; the C core's rule).
   */
  private motionOnlyAfterResetPlanAndResume(): void {
    const r = this.rig;
    const stops = [...r.stopEvents.map((e) => e.ord), ...r.stopRequests.map((q) => q.ord)];
    const resets = r.transitions.filter((t) => t.cause === 'reset').map((t) => t.ord);
    const resumes = r.transitions.filter((t) => t.cause === 'resume').map((t) => t.ord);
    const breaks = [...stops, ...resets, ...r.restarts, ...r.linkOrds];
    for (; this.checkedWire < r.wire.length; this.checkedWire++) {
      const w = r.wire[this.checkedWire] as WireRecord;
      if (!isMotion(w)) continue;
      const what = describe(w);
      if (w.state === 'ESTOP' || w.state === 'FAULT' || w.state === 'BOOT') fail('1. no motion while latched', `${what} written in ${w.state}`);
      const stop = lastBefore(stops, w.ord);
      const reset = lastBefore(resets, w.ord);
      const resume = lastBefore(resumes, w.ord);
      const plan = lastBefore(r.plans, w.ord);
      if (stop >= 0 && reset < stop) fail('1. no motion while a stop is outstanding', `${what}: stop at ord ${stop} has no completed reset after it`);
      if (reset >= 0 && resume < reset) fail('1. no motion after a reset without an explicit resume', `${what}: reset at ord ${reset}, last resume at ord ${resume}`);
      if (stop >= 0 && plan < stop) fail('1. no motion after a stop without a fresh plan', `${what}: stop at ord ${stop}, last plan at ord ${plan}`);
      const restart = lastBefore(r.restarts, w.ord);
      if (restart >= 0 && resume < restart) fail('4. no motion after an MCU reboot without an operator resume', `${what}: the link reported the MCU restarted at ord ${restart}, last resume at ord ${resume}`);
      // The first motion command after a break in the reference.
      const brk = lastBefore(breaks, w.ord);
      const previousMotion = this.lastMotionBefore(w.ord);
      if (brk >= 0 && previousMotion < brk) {
        for (let j = 0; j < w.rad.length; j++) {
          const off = Math.abs((w.rad[j] as number) - (w.truth[j] as number));
          if (!(off <= FIRST_COMMAND_TOLERANCE_RAD)) fail('4. the first command after a resume starts from the measured position', `${what}: joint ${j} is ${off.toFixed(3)} rad from the true position (break at ord ${brk})`);
          const m = w.measured[j];
          if (m !== undefined && !(Math.abs((w.rad[j] as number) - m) <= FIRST_COMMAND_TOLERANCE_RAD)) fail('4. the first command after a resume starts from the measured position', `${what}: joint ${j} is ${Math.abs((w.rad[j] as number) - m).toFixed(3)} rad from the estimate`);
        }
      }
    }
  }

  private lastMotionBefore(ord: number): number {
    const wire = this.rig.wire;
    for (let i = this.checkedWire - 1; i >= 0; i--) {
      const w = wire[i] as WireRecord;
      if (w.ord < ord && isMotion(w)) return w.ord;
    }
    return -1;
  }

  /**
   * 3. A reset never clears a stop that was requested after the reset was sent: between the RESET
   *    frame a completed reset answered and the completion itself, no stop was requested.
   */
  private resetNeverClearsALaterStop(): void {
    const r = this.rig;
    const resets = r.transitions.filter((t) => t.cause === 'reset');
    const resetFrames = r.wire.filter((w) => w.type === 0x06).map((w) => w.ord);
    const stops = [...r.stopEvents.map((e) => ({ ord: e.ord, what: `${e.cause} (${e.source.kind}:${e.source.id})` })), ...r.stopRequests.map((q) => ({ ord: q.ord, what: q.what }))];
    for (; this.checkedResets < resets.length; this.checkedResets++) {
      const done = resets[this.checkedResets] as (typeof resets)[number];
      const sent = lastBefore(resetFrames, done.ord);
      if (sent < 0) fail('3. a reset never clears a later stop', `reset completed at ord ${done.ord} with no RESET on the wire before it`);
      const later = stops.find((s) => s.ord > sent && s.ord < done.ord);
      if (later) fail('3. a reset never clears a later stop', `RESET sent at ord ${sent}, stop "${later.what}" at ord ${later.ord}, reset completed at ord ${done.ord} (supervisor now ${r.supervisor.state}, MCU latched ${r.mcuLatched})`);
    }
  }

  /**
   * 5a. Every stop request produces exactly one event, with its source: the supervisor emits one
   *     transition to ESTOP (or, already latched, one stop-while-latched) naming the cause and
   *     source, synchronously with the request.
   */
  private oneEventPerStopRequest(): void {
    const reqs = this.rig.stopRequests;
    for (; this.checkedRequests < reqs.length; this.checkedRequests++) {
      const q = reqs[this.checkedRequests] as (typeof reqs)[number];
      if (q.expect === null) continue;
      if (q.events.length !== 1) fail('5. one event per stop request', `"${q.what}" at ${(q.atUs / 1000).toFixed(0)} ms produced ${q.events.length} stop events: ${JSON.stringify(q.events)}`);
      const e = q.events[0] as (typeof q.events)[number];
      if (e.cause !== q.expect.cause || e.source.kind !== q.expect.source.kind || e.source.id !== q.expect.source.id) {
        fail('5. one event per stop request', `"${q.what}": event names ${e.cause} from ${e.source.kind}:${e.source.id}, expected ${q.expect.cause} from ${q.expect.source.kind}:${q.expect.source.id}`);
      }
    }
  }

  /** 5b. Every resume message is answered by exactly one event (accepted or refused, with why). */
  private oneAnswerPerResume(): void {
    const r = this.rig;
    const answers = r.handlerEvents.filter((e) => e.kind === 'resume-accepted' || e.kind === 'resume-refused').length;
    if (answers !== r.resumeMessages) fail('5. one event per resume', `${r.resumeMessages} resume messages, ${answers} answers`);
    // Each accepted resume is one supervisor transition to ACTIVE by 'resume'.
    const accepted = r.handlerEvents.filter((e) => e.kind === 'resume-accepted').length;
    const resumed = r.transitions.filter((t) => t.cause === 'resume').length;
    if (accepted !== resumed) fail('5. one event per resume', `${accepted} resumes accepted, ${resumed} transitions by resume`);
  }

  /** 5c. Every reset message is answered by exactly one event once nothing is in flight; each
   *     accepted one is one completed reset, each ACK'd RESET the MCU refused is a refusal. */
  private oneAnswerPerReset(): void {
    const r = this.rig;
    const answers = r.handlerEvents.filter((e) => e.kind === 'reset-accepted' || e.kind === 'reset-refused').length;
    if (answers !== r.resetMessages) fail('5. one event per reset', `${r.resetMessages} reset messages, ${answers} answers`);
    const accepted = r.handlerEvents.filter((e) => e.kind === 'reset-accepted').length;
    const done = r.transitions.filter((t) => t.cause === 'reset').length;
    if (accepted !== done) fail('5. one event per reset', `${accepted} resets accepted, ${done} completed`);
  }

  /**
   * 5d. The dashboard-visible state matches the supervisor's: the state summary's safety block is
   *     the supervisor's state, latched exactly in ESTOP and FAULT with its cause, and the fleet
   *     latch the summary reports is the one the operators set and released.
   */
  private summaryMatchesSupervisor(): void {
    const r = this.rig;
    const sup = r.supervisor;
    const s = r.summarySafety();
    const latched = sup.state === 'ESTOP' || sup.state === 'FAULT';
    if (s.state !== sup.state || s.latched !== latched || (latched && s.cause !== sup.latchedCause) || (!latched && s.cause !== undefined)) {
      fail('5. the summary matches the supervisor', `summary ${JSON.stringify(s)}, supervisor ${sup.state} latched by ${String(sup.latchedCause)}`);
    }
    if (r.handler.fleetLatch !== r.fleetLatchExpected) fail('5. the summary matches the supervisor', `fleet latch shown ${r.handler.fleetLatch}, set by the operators ${r.fleetLatchExpected}`);
  }

  /**
   * 2. Once the line is quiet, the host's latch equals the MCU's: the supervisor is in ESTOP or
   *    FAULT exactly when the MCU reports ESTOP_LATCHED or WATCHDOG_TRIPPED, and what the
   *    supervisor says it saw of the MCU's latch is the MCU's latch.
   */
  private latchMirrorsMcu(): void {
    const r = this.rig;
    const sup = r.supervisor;
    const hostLatched = sup.state === 'ESTOP' || sup.state === 'FAULT';
    if (hostLatched !== r.mcuLatched) fail('2. quiet line: host latch equals MCU latch', `supervisor ${sup.state} (latched by ${String(sup.latchedCause)}), MCU latched ${r.mcuLatched} (estop ${r.mcu.isEstopLatched}, watchdog ${r.mcu.isWatchdogTripped})`);
    const seen = r.mcuLatched ? 'latched' : 'clear';
    if (sup.mcuLatch !== seen) fail('2. quiet line: host latch equals MCU latch', `supervisor says the MCU is ${sup.mcuLatch}, it is ${seen}`);
  }
}

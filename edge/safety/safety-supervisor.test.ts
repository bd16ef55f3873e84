import { describe, expect, it } from 'vitest';
import { AckResult, EstopReason, EstopSource, Status, type AckMsg } from '../../proto/wire/index.js';
import { ManualClock } from '../clock.js';
import { IllegalSafetyTransitionError, SafetyStateMachine } from './safety-state.js';
import { SafetySupervisor } from './safety-supervisor.js';
import type { SafetySupervisorOptions, TransitionEvent } from './safety-types.js';
import { RecordingActuator } from './testing/recording-actuator.js';


const OP = { id: 'alice', role: 'operator' };
const GUEST = { id: 'mallory', role: 'viewer' };

function rig(opts: SafetySupervisorOptions = {}): { sup: SafetySupervisor; act: RecordingActuator; clock: ManualClock; seq: () => string[]; events: TransitionEvent[] } {
  const clock = new ManualClock();
  const act = new RecordingActuator();
  const sup = new SafetySupervisor(act, clock, opts);
  const events: TransitionEvent[] = [];
  sup.on('transition', (e) => events.push(e));
  return { sup, act, clock, events, seq: () => events.map((e) => `${e.from}>${e.to}:${e.cause}`) };
}

/** BOOT → IDLE → ACTIVE with a plan valid for 1 s. */
function active(r: ReturnType<typeof rig>): void {
  r.sup.linkReady();
  r.sup.mcuStatus(Status.CONFIGURED, 0); // a STATE since the link came up: the position is measured
  r.sup.planReceived(r.clock.nowUs() + 1_000_000);
  expect(r.sup.resume(OP)).toBe(true);
}

describe('SafetyStateMachine', () => {
  it('refuses illegal moves and moves whose expected state is wrong', () => {
    const sm = new SafetyStateMachine(() => {});
    expect(() => sm.transition(['BOOT'], 'ACTIVE')).toThrow(IllegalSafetyTransitionError);
    expect(() => sm.transition(['IDLE'], 'ACTIVE')).toThrow(/expected state IDLE/);
    sm.transition(['BOOT'], 'ESTOP');
    expect(() => sm.transition(['ESTOP'], 'ACTIVE')).toThrow(/not legal/);
  });
});

describe('SafetySupervisor stop sources: exact transition sequences', () => {
  it('remote robot e-stop: ESTOP frame with its category, latched', () => {
    const r = rig();
    active(r);
    r.sup.remoteEstop({ scope: 'robot', category: 2, operator: 'bob', malformed: false });
    expect(r.seq()).toEqual(['BOOT>IDLE:link-ready', 'IDLE>ACTIVE:resume', 'ACTIVE>ESTOP:remote-estop']);
    expect(r.act.estops).toEqual([{ category: 2, source: EstopSource.REMOTE, reason: 0x10 }]);
    expect(r.events[2]?.source).toEqual({ kind: 'remote', id: 'bob' });
    expect(r.sup.latchedCause).toBe('remote-estop');
  });

  it('fleet e-stop, and a malformed one, stop as category 0 when malformed', () => {
    const r = rig();
    active(r);
    r.sup.remoteEstop({ scope: 'fleet', category: 7, malformed: true });
    expect(r.seq().at(-1)).toBe('ACTIVE>ESTOP:fleet-estop');
    expect(r.act.estops[0]?.category).toBe(0);
    // A second e-stop while latched: on the wire again, no transition.
    r.sup.remoteEstop({ scope: 'robot', category: 1, malformed: false });
    expect(r.act.estops).toHaveLength(2);
    expect(r.events).toHaveLength(3);
  });

  it('remote e-stop already written by the caller (MQTT fast path): latched, recorded, not sent twice', () => {
    const r = rig();
    active(r);
    const sent: boolean[] = [];
    r.sup.on('estop-sent', (e) => sent.push(e.onWire));
    r.sup.remoteEstop({ scope: 'robot', category: 1, operator: 'bob', malformed: false, onWire: true });
    expect(r.seq().at(-1)).toBe('ACTIVE>ESTOP:remote-estop');
    expect(r.act.estops).toEqual([]);
    expect(sent).toEqual([true]);
  });

  it('MCU e-stop: latched, nothing echoed', () => {
    const r = rig();
    active(r);
    r.sup.mcuEstop({ category: 0, source: EstopSource.MCU_BUTTON, reason: 3 });
    expect(r.seq().at(-1)).toBe('ACTIVE>ESTOP:mcu-estop');
    expect(r.act.estops).toEqual([]);
  });

  it('MCU status latch without an ESTOP frame still stops; new fault bits → FAULT with an ESTOP sent', () => {
    const r = rig();
    active(r);
    r.sup.mcuStatus(Status.MOTORS_ENABLED, 0);
    r.sup.mcuStatus(Status.MOTORS_ENABLED, 0x4);
    expect(r.seq().at(-1)).toBe('ACTIVE>FAULT:mcu-fault');
    expect(r.act.estops).toHaveLength(1);
    const r2 = rig();
    active(r2);
    r2.sup.mcuStatus(Status.ESTOP_LATCHED, 0);
    expect(r2.seq().at(-1)).toBe('ACTIVE>ESTOP:mcu-estop');
  });

  it('fall → ESTOP (category 1 by default); tilt warning → HOLD', () => {
    const r = rig();
    active(r);
    r.sup.tiltWarning();
    r.sup.fall();
    expect(r.seq().slice(2)).toEqual(['ACTIVE>HOLD:tilt-warning', 'HOLD>ESTOP:fall']);
    expect(r.act.estops[0]?.category).toBe(1);
  });

  it('dead-man: silence for the timeout → ESTOP', () => {
    const r = rig({ deadmanTimeoutMs: 200 });
    r.sup.operatorHeartbeat();
    active(r);
    r.clock.advance(150);
    r.sup.operatorHeartbeat();
    r.clock.advance(150);
    expect(r.sup.state).toBe('ACTIVE');
    r.clock.advance(60);
    expect(r.seq().at(-1)).toBe('ACTIVE>ESTOP:deadman-timeout');
    expect(r.events.at(-1)?.at).toBe(1_000_000 + 350_000);
  });

  it('plan TTL → HOLD, and a new plan resumes by itself', () => {
    const r = rig();
    active(r);
    r.clock.advance(999);
    expect(r.sup.state).toBe('ACTIVE');
    r.clock.advance(1);
    expect(r.seq().at(-1)).toBe('ACTIVE>HOLD:plan-expired');
    r.sup.planReceived(r.clock.nowUs() + 500_000);
    expect(r.seq().at(-1)).toBe('HOLD>ACTIVE:new-plan');
  });

  it('decoder failure and bad numbers → HOLD; link lost → ESTOP with nothing sent', () => {
    const r = rig();
    active(r);
    r.sup.decoderFailed('worker-failed');
    r.sup.planReceived(r.clock.nowUs() + 500_000);
    r.sup.badNumbers('NaN');
    r.sup.linkLost('timeout');
    expect(r.seq().slice(2)).toEqual(['ACTIVE>HOLD:decoder-failed', 'HOLD>ACTIVE:new-plan', 'ACTIVE>HOLD:bad-numbers', 'HOLD>ESTOP:link-lost']);
    expect(r.act.estops).toEqual([]);
  });
});

describe('SafetySupervisor reset and resume', () => {
  it('refuses an unauthorised reset, and one while unsafe, and reports both', async () => {
    const r = rig();
    active(r);
    const refused: string[] = [];
    r.sup.on('refused', (e) => refused.push(`${e.request}:${e.reason}`));
    r.sup.fall();
    expect(await r.sup.reset(GUEST)).toBe(false);
    expect(await r.sup.reset(OP)).toBe(false);
    expect(refused).toEqual(['reset:unauthorised', 'reset:unsafe']);
    expect(r.act.resets).toEqual([]);
    r.sup.linkLost('unplugged');
    r.sup.tiltCleared();
    expect(await r.sup.reset(OP)).toBe(false);
    expect(refused.at(-1)).toBe('reset:unsafe');
    r.sup.linkReady();
    expect(await r.sup.reset(OP)).toBe(true);
    expect(r.sup.state).toBe('IDLE');
  });

  it('reports the MCU refusing the reset (button still pressed) and stays latched', async () => {
    const r = rig();
    active(r);
    r.sup.mcuEstop({ category: 0, source: EstopSource.MCU_BUTTON, reason: 3 });
    r.act.ackResult = AckResult.REFUSED_UNSAFE;
    const refused: string[] = [];
    r.sup.on('refused', (e) => refused.push(e.reason));
    expect(await r.sup.reset(OP)).toBe(false);
    expect(refused).toEqual(['mcu-refused']);
    expect(r.sup.state).toBe('ESTOP');
  });

  it('never resumes after a reset without a new plan and an explicit resume', async () => {
    const r = rig();
    active(r);
    r.sup.remoteEstop({ scope: 'robot', category: 1, malformed: false });
    expect(await r.sup.reset(OP)).toBe(true);
    expect(r.sup.state).toBe('IDLE');
    expect(r.sup.motionAllowed).toBe(false);
    // The old plan is still inside its validity, but predates the stop.
    expect(r.sup.resume(OP)).toBe(false);
    r.sup.planReceived(r.clock.nowUs() + 500_000);
    expect(r.sup.state).toBe('IDLE'); // a plan alone does not move the robot
    expect(r.sup.resume(GUEST)).toBe(false);
    expect(r.sup.resume(OP)).toBe(true);
    expect(r.seq().slice(2)).toEqual(['ACTIVE>ESTOP:remote-estop', 'ESTOP>IDLE:reset', 'IDLE>ACTIVE:resume']);
  });
});

/** An actuator whose RESET is answered only when the test says (the ACK still on the line). */
class SlowAckActuator extends RecordingActuator {
  private pending: ((ack: AckMsg) => void) | null = null;
  override sendReset(what: number, token: number): Promise<AckMsg> {
    this.resets.push(what);
    return new Promise((resolve) => { this.pending = () => resolve({ ackedType: 6, result: AckResult.OK, ackedSeq: 0, detail: token } as unknown as AckMsg); });
  }
  ack(): void {
    this.pending?.({} as AckMsg);
    this.pending = null;
  }
}

function slowRig(): { sup: SafetySupervisor; act: SlowAckActuator; clock: ManualClock } {
  const clock = new ManualClock();
  const act = new SlowAckActuator();
  return { sup: new SafetySupervisor(act, clock), act, clock };
}

describe('SafetySupervisor latch generation (regressions from the model test)', () => {
  it('ESTOP, reset, then a fleet category-0 e-stop before the ACK: the reset is refused and the latch stays', async () => {
    const { sup, act } = slowRig();
    sup.linkReady();
    sup.remoteEstop({ scope: 'robot', category: 1, malformed: false });
    const refused: string[] = [];
    sup.on('refused', (e) => refused.push(`${e.reason}: ${e.detail}`));
    const reset = sup.reset(OP);
    sup.remoteEstop({ scope: 'fleet', category: 0, malformed: false, onWire: true }); // ESTOP after RESET on the wire
    act.ack();
    expect(await reset).toBe(false);
    expect(sup.state).toBe('ESTOP');
    expect(sup.latchedCause).toBe('remote-estop'); // the first cause; the later stop is recorded
    expect(refused).toEqual(['wrong-state: a new stop (fleet-estop) was requested while the RESET was on the wire; still latched']);
    // Later resets are accepted, not refused as "wrong state".
    const again = sup.reset(OP);
    act.ack();
    expect(await again).toBe(true);
    expect(sup.state).toBe('IDLE');
  });

  it('a control failure while latched is a stop too: one event, and a reset in flight does not clear it', async () => {
    // Counterexample: [estop(robot, 0), ackFault(delay 5), recover(0), controlFailed()].
    const { sup, act } = slowRig();
    sup.linkReady();
    sup.remoteEstop({ scope: 'robot', category: 0, malformed: false });
    const latched: string[] = [];
    sup.on('stop-while-latched', (e) => latched.push(`${e.cause} ${e.source.kind}:${e.source.id}`));
    const reset = sup.reset(OP);
    sup.controlFailed('worker died');
    expect(latched).toEqual(['control-failed edge:control']);
    act.ack();
    expect(await reset).toBe(false);
    expect(sup.state).toBe('ESTOP');
  });
});

describe('SafetySupervisor mirrors the MCU latch', () => {
  it('a latch the MCU keeps showing stops the host even when its bits are not new', async () => {
    const r = rig();
    active(r);
    r.sup.remoteEstop({ scope: 'robot', category: 1, malformed: false });
    r.sup.mcuStatus(Status.ESTOP_LATCHED, 0);
    expect(r.sup.mcuLatch).toBe('latched');
    // The host's reset went through (ACK OK) but the MCU still reports a latch (a later stop).
    expect(await r.sup.reset(OP)).toBe(true);
    r.sup.mcuStatus(Status.ESTOP_LATCHED, 0);
    expect(r.seq().at(-1)).toBe('IDLE>ESTOP:mcu-estop');
  });

  it('a latched host whose MCU shows clear puts ESTOP on the wire again, at most every 100 ms, not during a reset', async () => {
    const { sup, act, clock } = slowRig();
    sup.linkReady();
    sup.remoteEstop({ scope: 'robot', category: 2, malformed: false });
    act.estops.length = 0;
    // STATEs sampled before the MCU took the ESTOP are still on the line: not a reason to re-send.
    sup.mcuStatus(Status.CONFIGURED, 0);
    expect(act.estops).toEqual([]);
    clock.advance(100);
    sup.mcuStatus(Status.CONFIGURED, 0); // e.g. the MCU rebooted: it forgot the latch
    sup.mcuStatus(Status.CONFIGURED, 0);
    // The same (hardest) category as the stop that latched, never a milder or a harder one.
    expect(act.estops).toEqual([{ category: 2, source: EstopSource.HOST, reason: EstopReason.RELATCH }]);
    clock.advance(100);
    sup.mcuStatus(Status.CONFIGURED, 0);
    expect(act.estops).toHaveLength(2);
    clock.advance(100);
    const reset = sup.reset(OP);
    sup.mcuStatus(Status.CONFIGURED, 0); // the MCU cleared on the RESET; its ACK is on the way
    expect(act.estops).toHaveLength(2);
    act.ack();
    expect(await reset).toBe(true);
    expect(sup.mcuLatch).toBe('clear');
  });

  it('says it does not know the MCU latch after the link is lost or the MCU restarted', () => {
    const r = rig();
    r.sup.linkReady();
    r.sup.mcuStatus(0, 0);
    expect(r.sup.mcuLatch).toBe('clear');
    r.sup.mcuRestarted('HELLO while READY');
    expect(r.sup.mcuLatch).toBe('unknown');
    r.sup.mcuStatus(0, 0);
    r.sup.linkLost('timeout');
    expect(r.sup.mcuLatch).toBe('unknown');
  });
});

describe('SafetySupervisor: an MCU restart and impossible STATE values hold until an operator resumes', () => {
  it('restart while ACTIVE → HOLD; a new plan does not resume; the operator does; the command reference is dropped', () => {
    const r = rig();
    active(r);
    const epoch = r.sup.commandEpoch;
    r.sup.mcuRestarted('HELLO while READY');
    expect(r.seq().at(-1)).toBe('ACTIVE>HOLD:mcu-restarted');
    expect(r.sup.commandEpoch).not.toBe(epoch);
    r.sup.planReceived(r.clock.nowUs() + 500_000);
    expect(r.sup.state).toBe('HOLD');
    expect(r.sup.resume(OP)).toBe(false); // no STATE from the restarted MCU yet: no current measurement
    r.sup.mcuStatus(Status.CONFIGURED, 0);
    expect(r.sup.resume(OP)).toBe(true);
  });

  it('a restart during a plan-expired HOLD makes that HOLD need a resume', () => {
    const r = rig();
    active(r);
    r.clock.advance(1000);
    expect(r.sup.holdReason).toBe('plan-expired');
    const causes: string[] = [];
    r.sup.on('hold-cause', (e) => causes.push(e.cause));
    r.sup.mcuRestarted('HELLO while READY');
    expect(causes).toEqual(['mcu-restarted']);
    r.sup.planReceived(r.clock.nowUs() + 500_000);
    expect(r.sup.state).toBe('HOLD');
  });

  it('an impossible value holds, and resume is refused until it clears', () => {
    const r = rig();
    active(r);
    r.sup.impossibleState('JOINT_NAN#0', 'joint 0 velocity NaN');
    expect(r.seq().at(-1)).toBe('ACTIVE>HOLD:impossible-state');
    const refused: string[] = [];
    r.sup.on('refused', (e) => refused.push(e.detail));
    expect(r.sup.resume(OP)).toBe(false);
    expect(refused[0]).toContain('impossible STATE value: joint 0 velocity NaN');
    r.sup.sensorRecovered('JOINT_NAN#0');
    expect(r.sup.resume(OP)).toBe(true);
  });
});

describe('SafetySupervisor shutdown', () => {
  it('SIGTERM during a reset in flight: the stop latches and the reset does not clear it', async () => {
    // Counterexample of the model test: [estop(robot, 0), ackFault(delay 5), recover(0), sigterm()].
    const { sup, act } = slowRig();
    sup.linkReady();
    sup.remoteEstop({ scope: 'robot', category: 0, malformed: false });
    const reset = sup.reset(OP);
    expect(sup.shutdown('SIGTERM')).toBe(true);
    expect(act.estops.at(-1)).toEqual({ category: 1, source: EstopSource.HOST, reason: 0 });
    act.ack();
    expect(await reset).toBe(false);
    expect(sup.state).toBe('ESTOP');
  });
});

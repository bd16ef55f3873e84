/**
 * Conformance checks that power or move the robot: the e-stop latch per category, the fail-safe
 * rule for a malformed ESTOP, COMMAND clamping to CONFIG limits, and the watchdog's trip time.
 * Motion is bounded by motion-plan.ts (small, slow, inside the profile's limits); everything else
 * here only enables the drives in HOLD (holding where the joints are) or removes power.
 */
import {
  AckResult, CommandMode, EstopReason, EstopSource, MsgType, ResetWhat, Status, newCommand,
  type StateMsg,
} from '../../proto/wire/index.js';
import type { HeartbeatPump} from './check-context.js';
import { Outcome, STOP_LIMIT_MS, bareCommand, hex, usSince, type CheckContext, type CheckResult } from './check-context.js';
import { sendConfig, sendReset } from './checks-link.js';
import type { ClampPlan } from './motion-plan.js';
import { hostNowUs, WireSession, type Rx } from './wire-session.js';

const enabled = (s: StateMsg): boolean => (s.status & Status.MOTORS_ENABLED) !== 0;
const latched = (s: StateMsg): boolean => (s.status & Status.ESTOP_LATCHED) !== 0;
const stopping = (s: StateMsg): boolean => (s.status & Status.STOPPING) !== 0;

/** Drives on in HOLD (where they are); resolves to the STATE that shows them enabled, or null. */
async function holdInPlace(c: CheckContext): Promise<Rx<typeof MsgType.STATE> | null> {
  c.session.send(MsgType.COMMAND, bareCommand(CommandMode.HOLD));
  return c.session.waitForState((s) => enabled(s) && !latched(s), c.ackTimeoutMs);
}

export function estopCheck(category: 0 | 1 | 2, pump: HeartbeatPump) {
  return async (c: CheckContext): Promise<CheckResult> => {
    const o = new Outcome(`estop-cat${category}`, `host ESTOP category ${category} stops, latches, ignores COMMAND until RESET bit 0 (§3 ESTOP, §4)`);
    const s = c.session;
    pump.start();
    if (!(await holdInPlace(c))) return o.fail(`drives did not report MOTORS_ENABLED within ${c.ackTimeoutMs} ms of COMMAND HOLD`);
    const from = s.received.length;
    const t0 = hostNowUs();
    s.send(MsgType.ESTOP, { category, source: EstopSource.HOST, reason: EstopReason.NONE });
    const seen = await s.waitForState(latched, 300);
    if (!seen) return o.fail('ESTOP_LATCHED not shown in STATE within 300 ms of the ESTOP');
    o.figure('latchMs', (seen.hostUs - t0) / 1000);
    const end = category === 0
      ? await s.waitForState((st) => !enabled(st), 100)
      : await s.waitForState((st) => !stopping(st) && enabled(st) === (category === 2), STOP_LIMIT_MS);
    if (!end) {
      const st = s.latestState()?.msg;
      return o.fail(category === 0
        ? 'MOTORS_ENABLED still set 100 ms after a category 0 ESTOP (power must be removed at once)'
        : `controlled stop not over within ${STOP_LIMIT_MS} ms (status ${hex(st?.status ?? 0)}; category ${category} ends ${category === 2 ? 'powered, holding' : 'with power removed'})`);
    }
    o.figure('stopMs', (end.hostUs - t0) / 1000);
    // Latched: a COMMAND must not change anything, and the latch must stay.
    const before = end.msg.status & Status.MOTORS_ENABLED;
    s.send(MsgType.COMMAND, bareCommand(CommandMode.HOLD));
    await WireSession.pause(100);
    const after = s.latestState();
    if (!after || !latched(after.msg)) return o.fail(`the latch cleared without RESET (status ${hex(after?.msg.status ?? 0)} 100 ms after COMMAND HOLD)`);
    if ((after.msg.status & Status.MOTORS_ENABLED) !== before) return o.fail('a COMMAND HOLD while latched changed MOTORS_ENABLED');
    const echo = s.received.slice(from).find((r) => r.type === MsgType.ESTOP);
    if (echo) return o.fail('the MCU echoed a valid host ESTOP (only its own stops are reported)');
    const token = 0xe5700000 + category;
    const ack = await sendReset(c, ResetWhat.ESTOP, token);
    if (!ack || ack.msg.result !== AckResult.OK || ack.msg.detail !== token) {
      return o.fail(ack ? `RESET bit 0 answered result ${ack.msg.result} detail ${hex(ack.msg.detail)} (token ${hex(token)})` : `no ACK for RESET bit 0 within ${c.ackTimeoutMs} ms`);
    }
    const clear = await s.waitForState((st) => !latched(st), 300);
    if (!clear) return o.fail('ESTOP_LATCHED still set 300 ms after an accepted RESET');
    if (enabled(clear.msg) !== (category === 2)) return o.fail(`after RESET the drives are ${enabled(clear.msg) ? 'powered' : 'off'}; a reset must leave them as the stop did`);
    return o.pass(`latched in ${((seen.hostUs - t0) / 1000).toFixed(1)} ms, stop over in ${((end.hostUs - t0) / 1000).toFixed(1)} ms, COMMAND ignored while latched, RESET token echoed`);
  };
}

export function malformedEstopCheck(pump: HeartbeatPump) {
  return async (c: CheckContext): Promise<CheckResult> => {
    const o = new Outcome('malformed-estop', 'an ESTOP with a bad body still stops as category 0 and is reported (§3 ESTOP fail-safe rule)');
    const s = c.session;
    pump.start();
    if (!(await holdInPlace(c))) return o.fail(`drives did not report MOTORS_ENABLED within ${c.ackTimeoutMs} ms of COMMAND HOLD`);
    const from = s.received.length;
    s.sendBody(MsgType.ESTOP, [7, 0, 0, 0]); // category 7
    const report = await s.waitForType(MsgType.ESTOP, 300, () => true, from);
    const st = await s.waitForState((x) => latched(x) && !enabled(x), 300);
    const log = await s.waitForType(MsgType.LOG, 300, () => true, from);
    o.figure('reported', report ? `category ${report.msg.category} source ${report.msg.source} reason ${report.msg.reason}` : 'none').figure('log', log !== null);
    if (!st) return o.fail('no STATE with ESTOP_LATCHED and power removed within 300 ms of an ESTOP with category 7');
    if (!report) return o.fail('no ESTOP report (category 0, source 0, reason 2) within 300 ms');
    const r = report.msg;
    if (r.category !== 0 || r.source !== EstopSource.HOST || r.reason !== EstopReason.MALFORMED_ESTOP) return o.fail(`reported category ${r.category} source ${r.source} reason ${r.reason}, expected 0, 0, 2`);
    if (!log) return o.fail('no LOG with the malformed ESTOP report');
    const ack = await sendReset(c, ResetWhat.ESTOP, 0xbad0e5);
    if (!ack || ack.msg.result !== AckResult.OK) return o.fail('RESET bit 0 after the malformed ESTOP was not accepted');
    return o.pass('stopped as category 0, reported as category 0 source 0 reason 2 with a LOG');
  };
}

export function clampingCheck(pump: HeartbeatPump, plan: () => ClampPlan | string) {
  return async (c: CheckContext): Promise<CheckResult> => {
    const o = new Outcome('clamping', 'COMMAND targets beyond CONFIG limits are clamped to them (§3 COMMAND, §4)');
    const s = c.session;
    pump.start();
    const hold = await holdInPlace(c);
    if (!hold) return o.fail(`drives did not report MOTORS_ENABLED within ${c.ackTimeoutMs} ms of COMMAND HOLD`);
    const p = plan();
    if (typeof p === 'string') return o.fail(p);
    const { ack } = await sendConfig(c, p.config);
    if (!ack || ack.msg.result !== AckResult.OK) return o.fail(`the narrow CONFIG (±${p.windowRad} rad around the present pose) was not accepted`);
    const cmd = newCommand();
    cmd.jointCount = p.target.length;
    cmd.mode = CommandMode.POSITION;
    p.target.forEach((t, j) => { cmd.position[j] = t; });
    const from = s.received.length;
    const timer = setInterval(() => s.send(MsgType.COMMAND, cmd), 20);
    s.send(MsgType.COMMAND, cmd);
    await WireSession.pause(p.durationMs);
    clearInterval(timer);
    s.send(MsgType.COMMAND, bareCommand(CommandMode.HOLD));
    let worst = { joint: -1, excess: 0, pos: 0 };
    let moved = 0;
    for (const r of s.received.slice(from)) {
      if (r.type !== MsgType.STATE || r.bodyError !== null) continue;
      const st = r.msg as StateMsg;
      for (let j = 0; j < p.target.length; j++) {
        const pos = st.position[j] as number;
        const excess = Math.max(0, pos - (p.config.posMax[j] as number), (p.config.posMin[j] as number) - pos);
        if (excess > worst.excess) worst = { joint: j, excess, pos };
        moved = Math.max(moved, Math.abs(pos - (p.start[j] as number)) / Math.max(1, p.windowCounts[j] as number));
      }
    }
    const restore = await sendConfig(c, c.config);
    o.figure('windowRad', p.windowRad).figure('maxExcessCounts', worst.excess).figure('worstJoint', worst.joint)
      .figure('travelOfWindow', moved);
    if (!restore.ack) return o.fail(`the profile CONFIG was not answered within ${c.ackTimeoutMs} ms after the check`);
    if (restore.ack.msg.result !== AckResult.OK) return o.fail(`the profile CONFIG was refused after the check (ACK result ${restore.ack.msg.result})`);
    const j = worst.joint;
    if (j >= 0 && worst.excess > (p.toleranceCounts[j] as number)) {
      return o.fail(`joint ${j} reached ${worst.pos} counts, ${worst.excess} beyond its CONFIG limit ${worst.pos > (p.config.posMax[j] as number) ? p.config.posMax[j] : p.config.posMin[j]} (allowed overshoot ${p.toleranceCounts[j]})`);
    }
    return o.pass(`targets ${p.beyond}× the window away held within it: worst ${worst.excess} counts past a limit; joints travelled ${(moved * 100).toFixed(0)} % of the window`);
  };
}

export function watchdogCheck(pump: HeartbeatPump) {
  return async (c: CheckContext): Promise<CheckResult> => {
    const wd = c.profile.serial.watchdogMs;
    const o = new Outcome('watchdog', `host silence trips the watchdog after watchdog_ms (${wd} ms): ESTOP source 2 reason 1, latched until RESET bit 2 (§4)`);
    pump.start();
    const strict = await sendConfig(c, { ...c.config, watchdogMs: wd });
    if (!strict.ack || strict.ack.msg.result !== AckResult.OK) return o.fail(`CONFIG with the profile's watchdog_ms ${wd} was not accepted`);
    try {
      return await tripWatchdog(c, o, wd, pump);
    } finally {
      await sendConfig(c, c.config); // the lenient working watchdog again
    }
  };
}

async function tripWatchdog(c: CheckContext, o: Outcome, wd: number, pump: HeartbeatPump): Promise<CheckResult> {
  const s = c.session;
  if (!(await holdInPlace(c))) return o.fail(`drives did not report MOTORS_ENABLED within ${c.ackTimeoutMs} ms of COMMAND HOLD`);
  pump.stop();
  const from = s.received.length;
  // The TIME_SYNC_REQ rides in the same write as the last HEARTBEAT, just before it: its t1 is
  // the MCU's own time of (at most) the last feed, so the trip time is measured on the MCU clock.
  s.sendTogether([{ type: MsgType.TIME_SYNC_REQ, msg: { id: 0x3d06 } }, { type: MsgType.HEARTBEAT, msg: { hostState: 2 } }]);
  const limit = Math.max(3 * wd, wd + 1000);
  // Both awaited side by side: a slow bridge (or QEMU) may deliver the reply after the trip.
  const syncReply = s.waitForType(MsgType.TIME_SYNC_RESP, Math.max(limit, c.ackTimeoutMs), (m) => m.id === 0x3d06, from);
  const trip = await s.waitForType(MsgType.ESTOP, limit, (m) => m.source === EstopSource.MCU_WATCHDOG, from);
  const sync = await syncReply;
  if (!trip) {
    o.figure('silenceMs', limit);
    return o.fail(`no watchdog ESTOP within ${limit} ms of host silence (watchdog_ms ${wd})`);
  }
  const tripMs = sync ? usSince(trip.timeUs, sync.msg.mcuRxUs) / 1000 : Number.NaN;
  o.figure('tripMs', tripMs).figure('watchdogMs', wd).figure('reason', trip.msg.reason).figure('category', trip.msg.category);
  const tripped = await s.waitForState((st) => (st.status & Status.WATCHDOG_TRIPPED) !== 0, 300);
  if (!tripped) return o.fail('no STATE with WATCHDOG_TRIPPED within 300 ms of the watchdog ESTOP');
  if (trip.msg.reason !== EstopReason.WATCHDOG || trip.msg.category !== 1) return o.fail(`watchdog ESTOP category ${trip.msg.category} reason ${trip.msg.reason}, expected category 1 reason 1`);
  if (!sync) return o.fail('no TIME_SYNC_RESP to time the trip against');
  if (tripMs < wd - 2) return o.fail(`tripped ${tripMs.toFixed(1)} ms after the last HEARTBEAT, before watchdog_ms ${wd}`);
  if (tripMs > wd + Math.max(50, wd / 2)) return o.fail(`tripped ${tripMs.toFixed(1)} ms after the last HEARTBEAT, watchdog_ms is ${wd}`);
  // Still tripped after COMMAND HOLD, cleared by RESET bit 2.
  s.send(MsgType.COMMAND, bareCommand(CommandMode.HOLD));
  await WireSession.pause(50);
  const still = s.latestState();
  if (!still || (still.msg.status & Status.WATCHDOG_TRIPPED) === 0) return o.fail('WATCHDOG_TRIPPED cleared without RESET');
  const ack = await sendReset(c, ResetWhat.WATCHDOG, 0x3d06);
  pump.start();
  if (!ack || ack.msg.result !== AckResult.OK) return o.fail('RESET bit 2 after the trip was not accepted');
  const clear = await s.waitForState((st) => (st.status & Status.WATCHDOG_TRIPPED) === 0, 300);
  if (!clear) return o.fail('WATCHDOG_TRIPPED still set 300 ms after an accepted RESET bit 2');
  return o.pass(`tripped ${tripMs.toFixed(1)} ms after the last HEARTBEAT by the MCU clock (watchdog_ms ${wd}); category 1, reason 1; cleared by RESET bit 2`);
}


/**
 * Conformance checks that move nothing: handshake, version refusal, CONFIG and its ACKs, STATE
 * rate and sequence, time sync, recovery from line errors, RESET tokens and faults. Each returns
 * a CheckResult with what it measured (SPEC.md sections named in the titles).
 */
import {
  AckResult, FrameEncoder, MsgType, PROTOCOL_MAJOR, ResetWhat, Status, type ConfigMsg,
} from '../../proto/wire/index.js';
import { buildHostHello, checkMcuHello } from '../serial/handshake.js';
import { HELLO_TIMEOUT_MS, Outcome, hex, usSince, type CheckContext, type CheckResult } from './check-context.js';
import { hostNowUs, WireSession, type Rx } from './wire-session.js';

export async function checkHandshake(c: CheckContext): Promise<CheckResult> {
  const o = new Outcome('handshake', 'HELLO answered, version, joint count and profile match (§3 HELLO, §4)');
  const s = c.session;
  const from = s.received.length;
  const t0 = hostNowUs();
  s.send(MsgType.HELLO, buildHostHello(c.profile, c.software));
  // A longer ACK wait, when asked for (a slow bridge or emulator), is the longer reply wait here too.
  const waitMs = Math.max(HELLO_TIMEOUT_MS, c.ackTimeoutMs);
  const rx = await s.waitForType(MsgType.HELLO, waitMs, (m) => m.role === 1, from);
  o.figure('framesReceived', s.received.length - from).figure('crcErrors', s.lineErrors.crc);
  if (!rx) {
    const hint = s.lineErrors.crc > 0 && s.received.length === from
      ? `; all ${s.lineErrors.crc} segments received failed the CRC-32C check (wrong CRC polynomial or parameters?)`
      : s.lineErrors.version > 0 ? `; frames of protocol major ${s.decoder.lastForeignVersion} were received` : '';
    return o.fail(`no HELLO within ${waitMs} ms${hint}`);
  }
  const h = rx.msg;
  o.figure('replyMs', (rx.hostUs - t0) / 1000).figure('protocol', `${h.protoMajor}.${h.protoMinor}`)
    .figure('firmware', `${h.fwMajor}.${h.fwMinor}.${h.fwPatch}`).figure('capabilities', hex(h.capabilities));
  const problem = checkMcuHello(h, c.profile);
  if (problem) return o.fail(problem);
  return o.pass(`HELLO in ${((rx.hostUs - t0) / 1000).toFixed(1)} ms: protocol ${h.protoMajor}.${h.protoMinor}, firmware ${h.fwMajor}.${h.fwMinor}.${h.fwPatch}, ${h.jointCount} joints, profile ${h.profileId}`);
}

export async function checkVersionRefusal(c: CheckContext): Promise<CheckResult> {
  const o = new Outcome('version-refusal', 'a frame of another protocol major is dropped, then the line works (§2)');
  const s = c.session;
  const foreign = new FrameEncoder({ version: PROTOCOL_MAJOR + 1, firstSeq: s.nextSeq });
  let from = s.received.length;
  s.sendRaw(foreign.encode(MsgType.HELLO, buildHostHello(c.profile, c.software), 0));
  const answered = await s.waitForType(MsgType.HELLO, 300, () => true, from);
  o.figure('answeredForeignMajor', answered !== null);
  if (answered) return o.fail(`a HELLO in a frame of header version ${PROTOCOL_MAJOR + 1} was answered; it must be counted and dropped`);
  from = s.received.length;
  s.send(MsgType.HELLO, buildHostHello(c.profile, c.software));
  const rx = await s.waitForType(MsgType.HELLO, HELLO_TIMEOUT_MS, () => true, from);
  if (!rx) return o.fail(`after a frame of version ${PROTOCOL_MAJOR + 1}, a valid HELLO got no answer within ${HELLO_TIMEOUT_MS} ms`);
  return o.pass(`version ${PROTOCOL_MAJOR + 1} frame dropped without answer; the next HELLO answered`);
}

/** Sends CONFIG and waits for its ACK; returns the ACK (or null) and the time it took. */
export async function sendConfig(c: CheckContext, cfg: ConfigMsg): Promise<{ ack: Rx<typeof MsgType.ACK> | null; ms: number; seq: number }> {
  const s = c.session;
  const from = s.received.length;
  const t0 = hostNowUs();
  const seq = s.send(MsgType.CONFIG, cfg);
  const ack = await s.waitForType(MsgType.ACK, c.ackTimeoutMs, (m) => m.ackedType === MsgType.CONFIG && m.ackedSeq === seq, from);
  return { ack, ms: ack ? (ack.hostUs - t0) / 1000 : Number.NaN, seq };
}

export async function checkConfig(c: CheckContext): Promise<CheckResult> {
  const o = new Outcome('config', 'CONFIG answered with ACK; refused CONFIGs answered with result 2 (§3 CONFIG, §4)');
  const s = c.session;
  const { ack, ms, seq } = await sendConfig(c, c.config);
  if (!ack) return o.fail(`no ACK for CONFIG seq ${seq} within ${c.ackTimeoutMs} ms`);
  o.figure('ackMs', ms).figure('result', ack.msg.result);
  if (ack.msg.result !== AckResult.OK) return o.fail(`CONFIG from the profile refused with ACK result ${ack.msg.result}`);
  const configured = await s.waitForState((st) => (st.status & Status.CONFIGURED) !== 0, c.ackTimeoutMs);
  if (!configured) return o.fail(`no STATE with CONFIGURED within ${c.ackTimeoutMs} ms of the ACK`);
  // Another joint count: refused, and it must change nothing.
  const wrongN = { ...c.config, jointCount: c.config.jointCount + 1 };
  const refused = await sendConfig(c, wrongN);
  o.figure('wrongJointCountResult', refused.ack?.msg.result ?? 'none');
  if (!refused.ack) return o.fail(`no ACK within ${c.ackTimeoutMs} ms for a CONFIG with ${wrongN.jointCount} joints (every CONFIG is answered)`);
  if (refused.ack.msg.result !== AckResult.BAD_VALUE) return o.fail(`CONFIG with ${wrongN.jointCount} joints answered result ${refused.ack.msg.result}, expected 2 (bad value)`);
  // A body that does not fit (pos_min above pos_max): BODY_ERROR, still answered.
  const from = s.received.length;
  const badSeq = s.sendBody(MsgType.CONFIG, [0, 0, 0, 0, 1, 0, 0, 0, 10, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f]);
  const badAck = await s.waitForType(MsgType.ACK, c.ackTimeoutMs, (m) => m.ackedType === MsgType.CONFIG && m.ackedSeq === badSeq, from);
  o.figure('bodyErrorResult', badAck?.msg.result ?? 'none');
  if (!badAck) return o.fail(`no ACK within ${c.ackTimeoutMs} ms for a CONFIG whose body was refused (pos_min above pos_max)`);
  if (badAck.msg.result !== AckResult.BAD_VALUE) return o.fail(`a CONFIG with pos_min above pos_max answered result ${badAck.msg.result}, expected 2`);
  return o.pass(`ACK 0 in ${ms.toFixed(1)} ms, CONFIGURED set; wrong joint count and a bad body answered with result 2`);
}

export async function checkStateRate(c: CheckContext): Promise<CheckResult> {
  const o = new Outcome('state-rate', 'STATE at the CONFIG rate by the MCU clock, no sequence gaps (§2, §3 STATE)');
  const s = c.session;
  const want = c.config.stateRateHz;
  const from = s.received.length;
  await WireSession.pause(Math.max(1000, (200 * 1000) / Math.max(1, want))); // 1 s, or 200 periods
  const frames = s.received.slice(from);
  const states = frames.filter((r) => r.type === MsgType.STATE && r.bodyError === null);
  if (states.length < 3) return o.fail(`${states.length} STATE frames in ${((hostNowUs() - (frames[0]?.hostUs ?? hostNowUs())) / 1000).toFixed(0)} ms, CONFIG asked ${want} Hz`);
  // Frames the MCU sent but the host did not get still count towards the MCU's rate: the sequence
  // numbers (of all types) say how many went missing between two STATEs.
  let lost = 0;
  let spanUs = 0;
  let backwards = 0;
  for (let i = 1; i < frames.length; i++) lost += (((frames[i] as Rx).seq - (frames[i - 1] as Rx).seq - 1) & 0xffff);
  for (let i = 1; i < states.length; i++) {
    const d = usSince((states[i] as Rx).timeUs, (states[i - 1] as Rx).timeUs);
    if (d <= 0) backwards++;
    spanUs += d;
  }
  const others = frames.filter((r) => r.type !== MsgType.STATE).length;
  const sent = states.length + lost;
  const rate = ((sent - 1) * 1e6) / spanUs;
  const hostSpanUs = (states.at(-1) as Rx).hostUs - (states[0] as Rx).hostUs;
  o.figure('configuredHz', want).figure('mcuClockHz', rate).figure('hostClockHz', ((states.length - 1) * 1e6) / hostSpanUs)
    .figure('frames', states.length).figure('otherFrames', others).figure('lostFrames', lost).figure('timeBackwards', backwards);
  const errPct = ((rate - want) / want) * 100;
  o.figure('rateErrorPct', errPct);
  if (backwards > 0) return o.fail(`time_us went backwards or repeated ${backwards} times between consecutive STATEs`);
  if (Math.abs(errPct) > 2) return o.fail(`STATE at ${rate.toFixed(1)} Hz by the MCU clock, CONFIG asked ${want} Hz (${errPct >= 0 ? '+' : ''}${errPct.toFixed(1)} %)`);
  if (lost > 0.05 * sent) return o.fail(`${lost} of ${sent} frames missing by sequence number (more than 5 %: line or host too slow?)`);
  return o.pass(`${rate.toFixed(1)} Hz by the MCU clock (CONFIG ${want} Hz, ${errPct >= 0 ? '+' : ''}${errPct.toFixed(2)} %), ${lost} lost of ${sent}`);
}

export async function checkTimeSync(c: CheckContext): Promise<CheckResult> {
  const o = new Outcome('time-sync', 'TIME_SYNC_RESP echoes the id with t1 <= t2; offset accuracy (§3 TIME_SYNC)');
  const s = c.session;
  const samples: { rttUs: number; offsetUs: number }[] = [];
  const baseHost = hostNowUs();
  let baseMcu = Number.NaN;
  for (let k = 0; k < 16; k++) {
    const id = (0x71e00000 + k) >>> 0;
    const from = s.received.length;
    const t0 = hostNowUs();
    s.send(MsgType.TIME_SYNC_REQ, { id });
    const rx = await s.waitForType(MsgType.TIME_SYNC_RESP, 200, (m) => m.id === id, from);
    if (!rx) return o.fail(`no TIME_SYNC_RESP for id ${hex(id)} within 200 ms (${samples.length} answered before)`);
    const t3 = rx.hostUs;
    const { mcuRxUs: t1, mcuTxUs: t2 } = rx.msg;
    const inside = usSince(t2, t1);
    if (inside < 0) return o.fail(`TIME_SYNC_RESP id ${hex(id)}: t2 ${t2} is before t1 ${t1}`);
    if (Number.isNaN(baseMcu)) baseMcu = t1;
    const m1 = usSince(t1, baseMcu), m2 = usSince(t2, baseMcu);
    const h0 = t0 - baseHost, h3 = t3 - baseHost;
    samples.push({ rttUs: h3 - h0 - inside, offsetUs: (m1 - h0 + (m2 - h3)) / 2 });
    await WireSession.pause(10);
  }
  samples.sort((a, b) => a.rttUs - b.rttUs);
  const best = samples.slice(0, 4);
  const offsets = best.map((b) => b.offsetUs);
  const spread = Math.max(...offsets) - Math.min(...offsets);
  const minRtt = (samples[0] as { rttUs: number }).rttUs;
  o.figure('samples', samples.length).figure('minRttUs', minRtt).figure('accuracyUs', minRtt / 2).figure('offsetSpreadUs', spread);
  if (minRtt > 50_000) return o.fail(`shortest round trip ${(minRtt / 1000).toFixed(1)} ms: the offset is known to ±${(minRtt / 2000).toFixed(1)} ms only`);
  return o.pass(`16 of 16 answered; shortest round trip ${(minRtt / 1000).toFixed(2)} ms (offset to ±${(minRtt / 2000).toFixed(2)} ms), best offsets within ${(spread / 1000).toFixed(2)} ms`);
}

export async function checkLineErrors(c: CheckContext): Promise<CheckResult> {
  const o = new Outcome('line-errors', 'garbage, bad CRC, cut and oversized segments are dropped; the next frame is read (§2)');
  const s = c.session;
  const hello = new FrameEncoder({ firstSeq: s.nextSeq }).encode(MsgType.HELLO, buildHostHello(c.profile, c.software), 0);
  const badCrc = Uint8Array.from(hello);
  badCrc[12] = ((badCrc[12] as number) % 254) + 1; // changed, never 0: still one segment
  const garbage = Uint8Array.from({ length: 48 }, (_, i) => 1 + ((i * 37) % 255));
  const cut = hello.subarray(0, 20);
  const oversized = new Uint8Array(1100).fill(0x5a);
  const from = s.received.length;
  s.sendRaw(Buffer.concat([garbage, Uint8Array.of(0), badCrc, cut, Uint8Array.of(0), oversized, Uint8Array.of(0)]));
  s.sendBody(MsgType.COMMAND, [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0x7f, 0, 0, 0, 0]); // NaN velocity: BODY_ERROR
  const wrongly = await s.waitForType(MsgType.HELLO, 200, () => true, from);
  if (wrongly) return o.fail('a HELLO with a corrupted CRC was answered');
  const t0 = hostNowUs();
  s.send(MsgType.HELLO, buildHostHello(c.profile, c.software));
  const rx = await s.waitForType(MsgType.HELLO, HELLO_TIMEOUT_MS, () => true, from);
  if (!rx) return o.fail(`after garbage, a bad CRC, a cut and an oversized segment, a valid HELLO got no answer within ${HELLO_TIMEOUT_MS} ms`);
  o.figure('recoveryMs', (rx.hostUs - t0) / 1000);
  return o.pass(`four damaged segments dropped; the next HELLO answered in ${((rx.hostUs - t0) / 1000).toFixed(1)} ms`);
}

/** Sends RESET and waits for its ACK. */
export async function sendReset(c: CheckContext, what: number, token: number): Promise<Rx<typeof MsgType.ACK> | null> {
  const s = c.session;
  const from = s.received.length;
  const seq = s.send(MsgType.RESET, { what, token });
  return s.waitForType(MsgType.ACK, c.ackTimeoutMs, (m) => m.ackedType === MsgType.RESET && m.ackedSeq === seq, from);
}

export async function checkResetToken(c: CheckContext): Promise<CheckResult> {
  const o = new Outcome('reset-token', 'RESET answered with ACK echoing its token, also when refused (§3 RESET)');
  const s = c.session;
  const token = 0x5ec01234;
  const ack = await sendReset(c, ResetWhat.ESTOP | ResetWhat.WATCHDOG, token);
  if (!ack) return o.fail(`no ACK within ${c.ackTimeoutMs} ms for RESET token ${hex(token)}`);
  o.figure('tokenSent', hex(token)).figure('detail', hex(ack.msg.detail)).figure('result', ack.msg.result);
  if (ack.msg.detail !== token) return o.fail(`ACK detail ${hex(ack.msg.detail)}, token sent ${hex(token)}`);
  if (ack.msg.result !== AckResult.OK) return o.fail(`RESET with nothing latched answered result ${ack.msg.result}, expected 0`);
  const token2 = 0x5ec05678;
  const from = s.received.length;
  const seq = s.sendBody(MsgType.RESET, [0x80, 0, 0, 0, 0x78, 0x56, 0xc0, 0x5e]);
  const refused = await s.waitForType(MsgType.ACK, c.ackTimeoutMs, (m) => m.ackedType === MsgType.RESET && m.ackedSeq === seq, from);
  o.figure('unknownBitsResult', refused?.msg.result ?? 'none').figure('unknownBitsDetail', refused ? hex(refused.msg.detail) : 'none');
  if (!refused) return o.fail(`no ACK within ${c.ackTimeoutMs} ms for a RESET with unknown bits (what 0x80)`);
  if (refused.msg.result !== AckResult.BAD_VALUE) return o.fail(`RESET with unknown bits answered result ${refused.msg.result}, expected 2`);
  if (refused.msg.detail !== token2) return o.fail(`refused RESET: ACK detail ${hex(refused.msg.detail)}, token sent ${hex(token2)} (SPEC 1.1 echoes it)`);
  return o.pass(`token ${hex(token)} echoed with result 0; unknown bits refused with result 2, token echoed`);
}

export async function checkFaults(c: CheckContext): Promise<CheckResult> {
  const o = new Outcome('faults', 'STATE reports faults; RESET bit 1 answered consistently with them (§3 STATE, RESET)');
  const st = c.session.latestState() ?? await c.session.waitForState(() => true, 500);
  if (!st) return o.fail('no STATE to read faults from');
  const faults = st.msg.faults;
  o.figure('faults', hex(faults)).figure('jointFaultMask', hex(st.msg.jointFaultMask));
  const ack = await sendReset(c, ResetWhat.FAULTS, 0xfa0175);
  if (!ack) return o.fail(`no ACK within ${c.ackTimeoutMs} ms for RESET bit 1`);
  o.figure('result', ack.msg.result);
  if (ack.msg.result === AckResult.OK) return o.pass(`faults ${hex(faults)} (joints ${hex(st.msg.jointFaultMask)}); RESET bit 1 accepted`);
  if (ack.msg.result === AckResult.REFUSED_UNSAFE && faults !== 0) return o.pass(`faults ${hex(faults)} persist; RESET bit 1 refused as unsafe (result 1), as it must be`);
  return o.fail(`RESET bit 1 answered result ${ack.msg.result} with STATE faults ${hex(faults)}`);
}

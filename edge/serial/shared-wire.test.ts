/**
 * SharedWire, model-based: random interleavings of the two writers' frames (tick: COMMAND and
 * HEARTBEAT; main: ESTOP, RESET, TIME_SYNC, HELLO), RESET acknowledgements in any order, delayed
 * or lost, and the link going in and out of READY. Written to a real fd (a file) and decoded.
 * Invariants, in words and in code below:
 * 1. every frame on the wire decodes, and sequence numbers run on without a gap;
 * 2. no COMMAND is on the wire after an ESTOP unless a RESET written after that ESTOP has been
 *    acknowledged before the COMMAND was written;
 * 3. a COMMAND is refused exactly when the model says motion is inhibited or the link not READY.
 * fast-check prints the seed and the shrunk sequence on failure.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MsgType, newCommand, newMessage } from '../../proto/wire/index.js';
import { openWireFile, type WireFile } from '../control/testing/wire-file.js';
import { FrameKind, FrameWriter, WriteFail, Writer } from './shared-wire.js';

type Op =
  | { k: 'command' } | { k: 'heartbeat' } | { k: 'timesync' } | { k: 'hello' }
  | { k: 'estop' } | { k: 'reset' } | { k: 'ack'; which: number } | { k: 'ready'; on: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant<Op>({ k: 'command' }), weight: 6 },
  fc.constant<Op>({ k: 'heartbeat' }), fc.constant<Op>({ k: 'timesync' }), fc.constant<Op>({ k: 'hello' }),
  { arbitrary: fc.constant<Op>({ k: 'estop' }), weight: 2 },
  { arbitrary: fc.constant<Op>({ k: 'reset' }), weight: 2 },
  { arbitrary: fc.nat(7).map<Op>((which) => ({ k: 'ack', which })), weight: 2 },
  fc.boolean().map<Op>((on) => ({ k: 'ready', on })),
);

let files: WireFile[] = [];
afterEach(() => {
  for (const f of files) f.close();
  files = [];
});

describe('SharedWire (model-based)', () => {
  it('keeps frames whole and numbered, and no COMMAND follows an ESTOP until a later RESET is acknowledged', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const wf = openWireFile();
      files.push(wf);
      const now = (): number => performance.now() * 1000;
      const tick = new FrameWriter(wf.wire, Writer.TICK, now);
      const main = new FrameWriter(wf.wire, Writer.MAIN, now);
      const cmd = newCommand();
      cmd.jointCount = 2;
      const hb = newMessage(MsgType.HEARTBEAT), ts = newMessage(MsgType.TIME_SYNC_REQ);
      const hello = { role: 0, protoMajor: 1, protoMinor: 0, fwMajor: 0, fwMinor: 0, fwPatch: 0, deviceId: 1, jointCount: 2, caps: 0, profileId: 'x' } as unknown as ReturnType<typeof newMessage<typeof MsgType.HELLO>>;
      // The model: ESTOPs written, and per RESET in flight the ESTOP count it covers.
      let estops = 0, released = 0, ready = true;
      const inFlight: number[] = [];
      // Per frame written, in order: kind and whether motion was allowed when it was written.
      const expected: { type: number; allowed: boolean }[] = [];
      // Per write: what it returned ('ok' for a sequence number) and what the model says it must.
      const got: (number | 'ok')[] = [], want: (number | 'ok')[] = [];
      const wrote = (type: number, r: number, must: number | 'ok'): void => {
        got.push(r >= 0 ? 'ok' : r);
        want.push(must);
        if (r >= 0) expected.push({ type, allowed: type !== MsgType.COMMAND || (ready && estops === released) });
      };
      const covered: [number, number][] = [];
      for (const o of ops) {
        switch (o.k) {
          case 'command':
            wrote(MsgType.COMMAND, tick.write(MsgType.COMMAND, cmd, FrameKind.MOTION), !ready ? WriteFail.NOT_READY : estops !== released ? WriteFail.INHIBITED : 'ok');
            break;
          case 'heartbeat': wrote(MsgType.HEARTBEAT, tick.write(MsgType.HEARTBEAT, hb, FrameKind.ROUTINE), 'ok'); break;
          case 'timesync': wrote(MsgType.TIME_SYNC_REQ, main.write(MsgType.TIME_SYNC_REQ, ts, FrameKind.ROUTINE), 'ok'); break;
          case 'hello': wrote(MsgType.HELLO, main.write(MsgType.HELLO, hello, FrameKind.ESSENTIAL), 'ok'); break;
          case 'estop':
            estops++;
            wrote(MsgType.ESTOP, main.write(MsgType.ESTOP, { category: 1, source: 0, reason: 0 }, FrameKind.STOP), 'ok');
            break;
          case 'reset':
            wrote(MsgType.RESET, main.write(MsgType.RESET, { what: 7, token: 1 }, FrameKind.ESSENTIAL), 'ok');
            inFlight.push(main.estopsAtLastWrite);
            covered.push([main.estopsAtLastWrite, estops]);
            break;
          case 'ack': {
            // Any pending RESET's ACK, in any order; the others may never be acknowledged.
            if (inFlight.length === 0) break;
            const [covers] = inFlight.splice(o.which % inFlight.length, 1) as [number];
            wf.wire.release(covers);
            released = Math.max(released, covers);
            break;
          }
          case 'ready': wf.wire.setReady(o.on); ready = o.on; break;
        }
      }
      expect(got).toEqual(want);
      // A RESET covers exactly the ESTOPs written before it.
      for (const [seen, model] of covered) expect(seen).toBe(model);
      const r = wf.read();
      expect(r.crcErrors + r.cobsErrors + r.otherErrors).toBe(0);
      expect(r.frames.map((f) => f.type)).toEqual(expected.map((e) => e.type));
      for (let i = 1; i < r.frames.length; i++) expect(((r.frames[i]?.seq ?? 0) - (r.frames[i - 1]?.seq ?? 0)) & 0xffff).toBe(1);
      // Invariant 2 on the wire itself: every COMMAND was written while motion was allowed.
      expect(expected.filter((e) => e.type === MsgType.COMMAND && !e.allowed)).toEqual([]);
      wf.close();
      files = files.filter((f) => f !== wf);
    }), { numRuns: 200 });
  });
});

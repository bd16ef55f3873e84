/**
 * The wire paced to a line, model-based: random interleavings of COMMANDs (tick thread),
 * HEARTBEAT, TIME_SYNC, ESTOP and RESET (main thread) and time passing, on an injected clock,
 * written to a real fd (a file) and decoded. Invariants:
 * 1. HEARTBEAT, TIME_SYNC, ESTOP and RESET are never shed: each is written;
 * 2. a COMMAND is written exactly when the model's backlog (bytes not yet on the line, in µs)
 *    plus the COMMAND's own bytes stays within the motion queue, and shed (SHED, counted) otherwise;
 * 3. so after any COMMAND written, the backlog is at most the motion queue;
 * 4. the count of shed COMMANDs is the count of SHED results, and every frame on the wire decodes,
 *    numbered without a gap (a shed COMMAND uses no sequence number).
 * fast-check prints the seed and the shrunk sequence on failure.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MsgType, newCommand, newMessage } from '../../proto/wire/index.js';
import { openWireFile, type WireFile } from '../control/testing/wire-file.js';
import { commandFrameBytes, SMALL_FRAME_BYTES } from './line-budget.js';
import { FrameKind, FrameWriter, LineSlot, WireWord, WriteFail, Writer } from './shared-wire.js';

type Op = { k: 'command' } | { k: 'heartbeat' } | { k: 'timesync' } | { k: 'estop' } | { k: 'reset' } | { k: 'wait'; us: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant<Op>({ k: 'command' }), weight: 8 },
  { arbitrary: fc.constant<Op>({ k: 'heartbeat' }), weight: 2 },
  fc.constant<Op>({ k: 'timesync' }),
  fc.constant<Op>({ k: 'estop' }),
  fc.constant<Op>({ k: 'reset' }),
  { arbitrary: fc.integer({ min: 0, max: 30_000 }).map<Op>((us) => ({ k: 'wait', us })), weight: 6 },
);

let files: WireFile[] = [];
afterEach(() => {
  for (const f of files) f.close();
  files = [];
});

const JOINTS = 7;

describe('SharedWire paced to the line (model-based)', () => {
  it('sheds only COMMANDs, exactly when they would overfill the backlog, and never tears or misnumbers a frame', () => {
    fc.assert(fc.property(
      fc.constantFrom(115_200, 1_000_000), fc.integer({ min: 0, max: 40_000 }), fc.array(op, { maxLength: 120 }),
      (baud, motionQueueUs, ops) => {
        const wf = openWireFile();
        files.push(wf);
        const bytesPerSecond = baud / 10;
        wf.wire.setLine(bytesPerSecond, motionQueueUs);
        let t = 5_000_000;
        const now = (): number => t;
        const tick = new FrameWriter(wf.wire, Writer.TICK, now);
        const main = new FrameWriter(wf.wire, Writer.MAIN, now);
        const cmd = newCommand();
        cmd.jointCount = JOINTS;
        cmd.mode = 2;
        const hb = newMessage(MsgType.HEARTBEAT), ts = newMessage(MsgType.TIME_SYNC_REQ);
        const byteUs = 1e6 / bytesPerSecond;
        // The model: when the line is free again, and whether an ESTOP inhibits motion.
        let freeAt = 0, inhibited = false, shed = 0, written = 0;
        const put = (bytes: number): void => { freeAt = Math.max(freeAt, t) + bytes * byteUs; written++; };
        // Per write: what it returned ('ok' for a sequence number) and what the model says it must.
        const got: (number | 'ok')[] = [], want: (number | 'ok')[] = [];
        const overfull: number[] = [];
        const other = (r: number, bytes: number): void => {
          got.push(r >= 0 ? 'ok' : r);
          want.push('ok');
          if (r >= 0) put(bytes);
        };
        for (const o of ops) {
          switch (o.k) {
            case 'wait': t += o.us; break;
            case 'command': {
              const r = tick.write(MsgType.COMMAND, cmd, FrameKind.MOTION);
              const bytes = commandFrameBytes(JOINTS);
              const fits = Math.max(0, freeAt - t) + bytes * byteUs <= motionQueueUs;
              const must = inhibited ? WriteFail.INHIBITED : fits ? 'ok' : WriteFail.SHED;
              got.push(r >= 0 ? 'ok' : r);
              want.push(must);
              if (must === WriteFail.SHED) shed++;
              if (r >= 0) {
                put(bytes);
                if (wf.wire.backlogUs(t) > motionQueueUs + 1e-6) overfull.push(wf.wire.backlogUs(t));
              }
              break;
            }
            case 'heartbeat': other(tick.write(MsgType.HEARTBEAT, hb, FrameKind.ROUTINE), SMALL_FRAME_BYTES); break;
            case 'timesync': other(main.write(MsgType.TIME_SYNC_REQ, ts, FrameKind.ROUTINE), SMALL_FRAME_BYTES); break;
            case 'estop':
              other(main.write(MsgType.ESTOP, { category: 1, source: 0, reason: 0 }, FrameKind.STOP), SMALL_FRAME_BYTES);
              inhibited = true;
              break;
            case 'reset':
              other(main.write(MsgType.RESET, { what: 1, token: 7 }, FrameKind.ESSENTIAL), SMALL_FRAME_BYTES + 4);
              wf.wire.release(main.estopsAtLastWrite); // acknowledged at once
              inhibited = false;
              break;
          }
        }
        expect(got).toEqual(want);
        expect(overfull).toEqual([]);
        expect(wf.wire.line[LineSlot.FREE_AT_US]).toBeCloseTo(freeAt, 3);
        expect(Atomics.load(wf.wire.words, WireWord.COMMANDS_SHED)).toBe(shed);
        const line = wf.read();
        expect(line.crcErrors + line.cobsErrors + line.otherErrors).toBe(0);
        expect(line.frames.map((f) => f.seq)).toEqual(Array.from({ length: written }, (_, i) => i));
      },
    ), { numRuns: 150 });
  });

  it('does not pace a wire given no line rate (USB CDC), nor one never told of a line', () => {
    for (const setUp of [(w: WireFile): void => w.wire.setLine(null, 0), (): void => {}]) {
      const wf = openWireFile();
      files.push(wf);
      setUp(wf);
      const tick = new FrameWriter(wf.wire, Writer.TICK, () => 1000);
      const cmd = newCommand();
      cmd.jointCount = JOINTS;
      for (let i = 0; i < 50; i++) expect(tick.write(MsgType.COMMAND, cmd, FrameKind.MOTION)).toBe(i);
      expect(Atomics.load(wf.wire.words, WireWord.COMMANDS_SHED)).toBe(0);
    }
  });

  it('refuses a line rate that is not positive, naming it', () => {
    const wf = openWireFile();
    files.push(wf);
    expect(() => wf.wire.setLine(0, 1000)).toThrow(/line rate 0 bytes\/s must be positive/);
    expect(() => wf.wire.setLine(11_520, Number.NaN)).toThrow(/motion queue NaN µs/);
  });
});

/**
 * The line arithmetic against the codec (frame sizes are what the encoder produces), the load of
 * the two robots at 115200 baud and 1 Mbaud worked by hand, and the fitted command rate as a
 * property: it fits, one more hertz does not.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameEncoder, MsgType, StateFlag, newCommand, newState } from '../../proto/wire/index.js';
import { checkLine, commandFrameBytes, lineLoad, maxCommandRateHz, MIN_FITTED_COMMAND_HZ, SMALL_FRAME_BYTES, stateFrameBytes, TIME_SYNC_RESP_BYTES, type LineLoadInput } from './line-budget.js';

const enc = new FrameEncoder();
const keys = { baudRate: 'serial.baudRate', stateRateHz: 'serial.stateRateHz', commandRateHz: 'control.rateHz' };
/** arm6-gripper: 7 joints, IMU with fused orientation. */
const arm = (o: Partial<LineLoadInput> = {}): LineLoadInput => ({
  baudRate: 115_200, jointCount: 7, imu: true, orientation: true, stateRateHz: 50, commandRateHz: 200, heartbeatMs: 20, timeSyncHz: 20, ...o,
});
/** quadruped12: 12 joints, IMU without orientation. */
const quad = (o: Partial<LineLoadInput> = {}): LineLoadInput => arm({ jointCount: 12, orientation: false, ...o });

describe('frame sizes', () => {
  it('match the encoder for every joint count (never below it)', () => {
    // Exact under 254 bytes (one COBS code byte); above, an upper bound (zeros in the body save code bytes).
    const wrong: string[] = [];
    const check = (what: string, formula: number, encoded: number): void => {
      if (encoded < 254 ? formula !== encoded : formula < encoded) wrong.push(`${what}: ${formula} for ${encoded} encoded`);
    };
    for (let n = 1; n <= 32; n++) {
      const c = newCommand();
      c.jointCount = n;
      c.position.fill(0x01010101); // no zero bytes: the worst case for COBS
      check(`COMMAND, ${n} joints`, commandFrameBytes(n), enc.encode(MsgType.COMMAND, c, 1).length);
      for (const flags of [0, StateFlag.IMU, StateFlag.IMU | StateFlag.ORIENTATION]) {
        const s = newState();
        s.jointCount = n;
        s.flags = flags;
        s.position.fill(0x01010101);
        check(`STATE, ${n} joints, flags ${flags}`, stateFrameBytes(n, (flags & StateFlag.IMU) !== 0, (flags & StateFlag.ORIENTATION) !== 0), enc.encode(MsgType.STATE, s, 1).length);
      }
    }
    expect(wrong).toEqual([]);
    expect(SMALL_FRAME_BYTES).toBe(enc.encode(MsgType.HEARTBEAT, { hostState: 1 }, 1).length);
    expect(SMALL_FRAME_BYTES).toBe(enc.encode(MsgType.TIME_SYNC_REQ, { id: 1 }, 1).length);
    expect(TIME_SYNC_RESP_BYTES).toBe(enc.encode(MsgType.TIME_SYNC_RESP, { id: 1, mcuRxUs: 1, mcuTxUs: 1 }, 1).length);
  });
});

describe('line load', () => {
  it('adds up each direction from sizes and rates (the arm at 115200 baud, by hand)', () => {
    const l = lineLoad(arm());
    expect(l.capacity).toBe(11_520);
    expect(l.usable).toBeCloseTo(10_368, 6);
    // 150-byte STATE at 50 Hz, 26-byte TIME_SYNC_RESP at 20 Hz.
    expect(l.up.parts).toEqual({ STATE: 7500, TIME_SYNC_RESP: 520 });
    // 102-byte COMMAND at 200 Hz (no heartbeats: commands feed the watchdog every 5 ms), 18-byte TIME_SYNC_REQ at 20 Hz.
    expect(l.down.parts).toEqual({ COMMAND: 20_400, HEARTBEAT: 0, TIME_SYNC_REQ: 360 });
    expect(l.down.bytesPerSecond).toBe(20_760);
  });

  it('counts heartbeats when commands come less often than the heartbeat interval', () => {
    expect(lineLoad(arm({ commandRateHz: 30 })).down.parts['HEARTBEAT']).toBe(50 * 18);
    expect(lineLoad(arm({ commandRateHz: 50 })).down.parts['HEARTBEAT']).toBe(0);
  });

  it('has no capacity on a line without a baud limit', () => {
    const l = lineLoad(arm({ baudRate: null, commandRateHz: 1000, stateRateHz: 1000 }));
    expect(l.capacity).toBeNull();
    expect(checkLine(arm({ baudRate: null, commandRateHz: 1000, stateRateHz: 1000 }), keys, false).ok).toBe(true);
  });
});

describe('checkLine', () => {
  it('refuses the default 200 Hz command rate at 115200 baud, naming keys, values and what fits', () => {
    const r = checkLine(arm(), keys, false);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(1);
    // usable 10368 bytes/s, less 360 for time sync: 98 COMMANDs of 102 bytes.
    expect(r.problems[0]).toMatch(/^host → MCU needs 20760 bytes\/s \(COMMAND 20400 \+ TIME_SYNC_REQ 360; COMMAND is 102 bytes at control\.rateHz=200\) but serial\.baudRate=115200 carries 11520 bytes\/s each way, 90 % of it \(10368\) for periodic traffic: lower control\.rateHz to 98 or less/);
  });

  it('refuses STATE that does not fit, and does not fit it', () => {
    const r = checkLine(quad({ stateRateHz: 1000, commandRateHz: 50 }), keys, true);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    // (10368 - 520) / 194 = 50.7: 50 STATEs/s.
    expect(r.problems.join('\n')).toMatch(/MCU → host needs 194520 bytes\/s .*STATE is 194 bytes at serial\.stateRateHz=1000.*set serial\.stateRateHz to 50 or less/);
  });

  it('fits the command rate when told to, and says so', () => {
    const r = checkLine(quad(), keys, true);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // (10368 - 360) / 162 = 61.8.
    expect(r.commandRateHz).toBe(61);
    expect(r.note).toMatch(/the command rate is lowered to 61 Hz to fit/);
    expect(r.load.down.bytesPerSecond).toBeLessThanOrEqual(r.load.usable as number);
  });

  it('does not fit below the floor', () => {
    const r = checkLine(arm({ baudRate: 9600 }), keys, true);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.join('\n')).toMatch(new RegExp(`below ${MIN_FITTED_COMMAND_HZ} Hz`));
  });

  it('passes both robots at 1 Mbaud with 500 Hz STATE and 200 Hz commands', () => {
    expect(checkLine(arm({ baudRate: 1_000_000, stateRateHz: 500 }), keys, false).ok).toBe(true);
    expect(checkLine(quad({ baudRate: 1_000_000, stateRateHz: 400 }), keys, false).ok).toBe(true);
  });

  it('fits the highest rate that fits: one hertz more does not (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 9600, max: 4_000_000 }), fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 1000 }),
      (baudRate, jointCount, ceiling) => {
        const i = arm({ baudRate, jointCount, commandRateHz: ceiling });
        const hz = maxCommandRateHz(i, ceiling);
        const fits = (rate: number): boolean => {
          const l = lineLoad({ ...i, commandRateHz: rate });
          return l.down.bytesPerSecond <= (l.usable as number);
        };
        expect(hz === 0 || fits(hz), `${hz} Hz fits`).toBe(true);
        expect(hz === ceiling || !fits(hz + 1), `${hz + 1} Hz does not fit`).toBe(true);
      },
    ));
  });
});

describe('SPEC.md §5, the 115200-baud sentence', () => {
  it('states the rates this arithmetic allows', () => {
    const spec = readFileSync(new URL('../../proto/wire/SPEC.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const stateMax = (i: LineLoadInput): number => {
      const l = lineLoad(i);
      return Math.floor(((l.usable as number) - (l.up.parts['TIME_SYNC_RESP'] as number)) / l.frames.state);
    };
    const armCmd = maxCommandRateHz(arm(), 1000), quadCmd = maxCommandRateHz(quad(), 1000);
    expect(spec).toContain(`the edge's start-up check allows ${armCmd} Hz and ${quadCmd} Hz, and STATE up to ${stateMax(arm())} Hz (arm) and ${stateMax(quad())} Hz (quadruped)`);
  });
});

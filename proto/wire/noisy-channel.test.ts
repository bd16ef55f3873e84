/**
 * One million frames through a channel with bit errors (BER 1e-4), dropped bytes and dropped
 * frames: nothing corrupted is accepted, every loss is counted, and the decoder is back in sync on
 * the first frame whose bytes (and the delimiter before it) arrived intact.
 */
import { describe, expect, it } from 'vitest';
import { MsgType, StateFlag } from './constants.js';
import { FrameDecoder, type Frame } from './frame-decoder.js';
import { FrameEncoder, MAX_ENCODED_FRAME } from './frame-encoder.js';
import { readFrame } from './message-reader.js';
import { newState } from './messages.js';

const FRAMES = 1_000_000;
const BER = 1e-4;
const BYTE_DROP_RATE = 1e-5;
const FRAME_DROP_RATE = 1e-3;

function xorshift(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** Payload derived from the frame index, so an accepted frame can be checked without storing it. */
function fill(state: ReturnType<typeof newState>, index: number): void {
  state.jointCount = 7;
  state.flags = StateFlag.IMU | StateFlag.ORIENTATION;
  state.status = index & 0xffff;
  for (let j = 0; j < 7; j++) {
    state.position[j] = (index * 7 + j) | 0;
    state.velocity[j] = (index % 1000) + j;
    state.current[j] = j;
  }
  state.accel[2] = index % 97;
}

describe('noisy channel', () => {
  it(`accepts no corrupted frame and counts every loss over ${FRAMES} frames at BER ${BER}`, () => {
    const rnd = xorshift(20261129);
    const nextGap = (p: number): number => Math.floor(Math.log(1 - rnd()) / Math.log(1 - p));
    const enc = new FrameEncoder();
    const dec = new FrameDecoder();
    const tx = newState();
    const rx = newState();
    const frameBuf = new Uint8Array(MAX_ENCODED_FRAME);
    const line = new Uint8Array(1 << 16);
    let lineLen = 0;
    let bitsToNextError = nextGap(BER);
    let bytesToNextDrop = nextGap(BYTE_DROP_RATE);

    let accepted = 0;
    let corruptAccepted = 0;
    let droppedFrames = 0;
    let intactButLost = 0;
    // Invariant: received[i] is 1 iff frame i was accepted; intact[i] iff its bytes and the preceding delimiter arrived untouched.
    const received = new Uint8Array(FRAMES);
    const intact = new Uint8Array(FRAMES);
    let prevDelimiterIntact = true;

    const sink = {
      onFrame(f: Frame): void {
        accepted++;
        const index = f.timeUs;
        if (f.type !== MsgType.STATE || readFrame(f, MsgType.STATE, rx) !== null || index >= FRAMES) { corruptAccepted++; return; }
        fill(tx, index);
        let same = rx.jointCount === 7 && rx.status === tx.status && rx.accel[2] === tx.accel[2] && f.seq === (index & 0xffff);
        for (let j = 0; j < 7; j++) same &&= rx.position[j] === tx.position[j] && rx.velocity[j] === tx.velocity[j];
        if (!same) corruptAccepted++;
        received[index] = 1;
      },
    };

    const flush = (): void => {
      let pos = 0;
      while (pos < lineLen) {
        const n = Math.min(lineLen - pos, 1 + Math.floor(rnd() * 512));
        dec.push(line.subarray(pos, pos + n), sink);
        pos += n;
      }
      lineLen = 0;
    };

    for (let i = 0; i < FRAMES; i++) {
      fill(tx, i);
      const n = enc.encodeInto(MsgType.STATE, tx, i, frameBuf);
      const lastFrame = i === FRAMES - 1;
      if (!lastFrame && rnd() < FRAME_DROP_RATE) { droppedFrames++; continue; }
      let touched = false;
      let delimiterIntact = true;
      for (let b = 0; b < n; b++) {
        let byte = frameBuf[b] as number;
        if (!lastFrame) {
          bitsToNextError -= 8;
          while (bitsToNextError < 0) {
            byte ^= 1 << (8 + bitsToNextError);
            touched = true;
            if (b === n - 1) delimiterIntact = false;
            bitsToNextError += 1 + nextGap(BER);
          }
          if (--bytesToNextDrop < 0) {
            bytesToNextDrop = nextGap(BYTE_DROP_RATE);
            touched = true;
            if (b === n - 1) delimiterIntact = false;
            continue;
          }
        }
        line[lineLen++] = byte;
      }
      intact[i] = !touched && prevDelimiterIntact ? 1 : 0;
      prevDelimiterIntact = delimiterIntact;
      if (lineLen > line.length - MAX_ENCODED_FRAME) flush();
    }
    flush();

    for (let i = 0; i < FRAMES; i++) if (intact[i] && !received[i]) intactButLost++;
    const lost = FRAMES - accepted;
    expect(corruptAccepted).toBe(0);
    expect(intactButLost).toBe(0);
    expect(received[FRAMES - 1]).toBe(1);
    // The decoder's own count of missing frames (from sequence numbers) is exact.
    expect(dec.counters.seqLost).toBe(lost);
    expect(dec.counters.frames).toBe(accepted);
    // Sanity: the channel really was noisy (about 11 % of 150-byte frames hit at BER 1e-4).
    expect(lost).toBeGreaterThan(FRAMES * 0.05);
    expect(droppedFrames).toBeGreaterThan(500);
    expect(dec.counters.crcErrors + dec.counters.cobsErrors + dec.counters.tooShort).toBeGreaterThan(FRAMES * 0.03);
  }, 120_000);
});

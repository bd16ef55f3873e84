/**
 * Builds the C99 shim with the system compiler and checks it against the TypeScript codec:
 * the committed conformance vectors, extra vectors produced here by the TS encoder, the decoder
 * counters of both implementations, and the MCU safety core's own unit tests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder, FrameEncoder, MsgType, cobsEncode, crc32c, newCommand, newConfig, newState, streamEvents, type DecoderCounters, type MessageMap } from '../../proto/wire/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const vectorsDir = resolve(here, '../../proto/wire/vectors');
const CFLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-O2', `-I${join(here, 'include')}`];
const LIB = ['src/spinal_frame.c', 'src/spinal_msg.c', 'src/spinal_mcu.c'].map((f) => join(here, f));

let work = '';
let conformance = '';
let mcuTest = '';

interface Run {
  status: number | null;
  out: string;
}
function run(bin: string, args: string[]): Run {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function manifest(dir: string): { name: string; kind: string }[] {
  return readFileSync(join(dir, 'MANIFEST'), 'utf8').trim().split('\n').map((line) => {
    const [name = '', kind = ''] = line.split(' ');
    return { name, kind };
  });
}

/** Writes a vector in the committed format; events come from the TS decoder. */
function writeVector(dir: string, name: string, bytes: Uint8Array): void {
  writeFileSync(join(dir, `${name}.bin`), bytes);
  writeFileSync(join(dir, `${name}.events`), streamEvents(bytes).join('\n') + '\n');
}

function tsCounters(bytes: Uint8Array): DecoderCounters {
  const d = new FrameDecoder();
  d.push(bytes, { onFrame: () => undefined });
  return d.counters;
}

/** `COUNTERS name k=v ...` lines of the runner, keyed by vector name. */
function parseCounters(out: string): Map<string, Record<string, number>> {
  const map = new Map<string, Record<string, number>>();
  for (const line of out.split('\n')) {
    const [tag, name, ...pairs] = line.split(' ');
    if (tag !== 'COUNTERS' || name === undefined) continue;
    map.set(name, Object.fromEntries(pairs.map((p) => { const [k = '', v = ''] = p.split('='); return [k, Number(v)]; })));
  }
  return map;
}

/** Deterministic frames of every host- and MCU-bound type, with seq gaps and a rewind. */
function randomFrames(): Uint8Array {
  let s = 0x1234567;
  const rnd = (): number => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 2 ** 32; };
  const int = (n: number): number => Math.floor(rnd() * n);
  const real = (): number => Math.fround((rnd() - 0.5) * 10 ** int(8));
  const parts: Uint8Array[] = [];
  let seq = 100;
  for (let i = 0; i < 60; i++) {
    const enc = new FrameEncoder({ firstSeq: seq });
    const t = int(2 ** 32);
    const n = 1 + int(32);
    const kind = i % 8;
    if (kind === 0) {
      const m = newState();
      m.jointCount = n; m.flags = int(4); m.status = int(64); m.faults = int(128); m.jointFaultMask = int(2 ** 32);
      for (let j = 0; j < n; j++) { m.position[j] = int(2 ** 32) - 2 ** 31; m.velocity[j] = real(); m.current[j] = j === 3 ? NaN : real(); }
      for (let k = 0; k < 3; k++) { m.accel[k] = real(); m.gyro[k] = real(); }
      for (let k = 0; k < 4; k++) m.quat[k] = real();
      parts.push(enc.encode(MsgType.STATE, m, t));
    } else if (kind === 1) {
      const m = newCommand();
      m.jointCount = n; m.mode = int(5);
      for (let j = 0; j < n; j++) { m.position[j] = int(2 ** 32) - 2 ** 31; m.velocity[j] = real(); m.feedforward[j] = real(); }
      parts.push(enc.encode(MsgType.COMMAND, m, t));
    } else if (kind === 2) {
      const m = newConfig();
      m.watchdogMs = int(65536); m.stateRateHz = int(65536); m.jointCount = n;
      for (let j = 0; j < n; j++) { m.posMin[j] = -int(1e6); m.posMax[j] = int(1e6); m.velMax[j] = Math.abs(real()); m.currentMax[j] = Math.abs(real()); }
      parts.push(enc.encode(MsgType.CONFIG, m, t));
    } else if (kind === 3) {
      parts.push(enc.encode(MsgType.ESTOP, { category: int(3), source: int(5), reason: int(65536) }, t));
    } else if (kind === 4) {
      parts.push(enc.encode(MsgType.TIME_SYNC_RESP, { id: int(2 ** 32), mcuRxUs: int(2 ** 32), mcuTxUs: int(2 ** 32) }, t));
    } else if (kind === 5) {
      parts.push(enc.encode(MsgType.ACK, { ackedType: 1 + int(11), result: int(4), ackedSeq: int(65536), detail: int(2 ** 32) }, t));
    } else if (kind === 6) {
      const text = 'x'.repeat(int(150)) + 'ü€';
      parts.push(enc.encode(MsgType.LOG, { level: int(4), text } satisfies MessageMap[typeof MsgType.LOG], t));
    } else {
      parts.push(enc.encode(MsgType.RESET, { what: int(8), token: int(2 ** 32) }, t));
    }
    seq = i === 40 ? 3 : (seq + 1 + (i % 5 === 0 ? int(3) : 0)) & 0xffff; // gaps, one rewind
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Stuffs bytes as one segment, delimiter included. */
function segment(packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(packet.length + Math.floor(packet.length / 254) + 2);
  const n = cobsEncode(packet, 0, packet.length, out, 0);
  return out.subarray(0, n + 1);
}

/** A checksummed packet with any header, and body byte i = fill(i). */
function rawFrame(type: number, seq: number, bodyLength: number, fill: (i: number) => number): Uint8Array {
  const p = new Uint8Array(8 + bodyLength + 4);
  const v = new DataView(p.buffer);
  p[0] = 1; p[1] = type; v.setUint16(2, seq, true); v.setUint32(4, 0x01020304, true);
  for (let i = 0; i < bodyLength; i++) p[8 + i] = fill(i);
  v.setUint32(8 + bodyLength, crc32c(p, 0, 8 + bodyLength), true);
  return segment(p);
}
const nonZero = (i: number): number => 1 + ((i * 7) % 255);
/** LOG bodies stay ASCII: canonical.ts round-trips the text through UTF-8 (see the report). */
const ascii = (i: number): number => (i < 2 ? 1 : 0x20 + ((i * 3) % 95));

/** Segments at the edges of the unstuffer: packet-size limits, implied zeros, cut blocks. */
function edgeSegments(): Uint8Array {
  const full = (blocks: number): number[] => Array.from({ length: blocks }, () => [0xff, ...new Array<number>(254).fill(0x11)]).flat();
  const parts = [
    Uint8Array.from([...full(4), 0xfe, 1, 2, 3, 0]), // last block claims past the limit and past the end
    Uint8Array.from([...full(4), 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x01, 0]), // implied zero would be byte 1025
    Uint8Array.from([...full(4), 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0]), // exactly 1024 bytes, bad CRC
    Uint8Array.from([0x05, 1, 2, 0]), // block cut by the delimiter
    Uint8Array.from([0x01, 0x01, 0x01, 0x01, 0x01, 0]), // four zeros: short
    Uint8Array.from([...new Array<number>(1100).fill(0x01), 0]), // only implied zeros, too many
    rawFrame(MsgType.HEARTBEAT, 1, 1012, nonZero), // 1024-byte packet: a frame, wrong body
    rawFrame(MsgType.HEARTBEAT, 2, 1013, nonZero), // 1025 bytes: oversized
    rawFrame(MsgType.STATE, 3, 1012, () => 0), // all-zero body: one-byte blocks
    rawFrame(MsgType.LOG, 9, 202, ascii), // longest LOG, no zeros: 0xFF blocks
    rawFrame(MsgType.LOG, 10, 203, ascii), // one byte too long
    Uint8Array.from([0, 0, 0]), // extra delimiters
  ];
  return Uint8Array.from(Buffer.concat(parts));
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'spinal-shim-'));
  conformance = join(work, 'conformance');
  mcuTest = join(work, 'mcu_test');
  execFileSync('cc', [...CFLAGS, ...LIB, join(here, 'test/conformance.c'), '-o', conformance], { stdio: 'pipe' });
  execFileSync('cc', [...CFLAGS, ...LIB, join(here, 'test/mcu_test.c'), '-o', mcuTest], { stdio: 'pipe' });
});

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('C shim: wire codec conformance', () => {
  it('decodes every committed vector to its events and re-encodes every valid one byte for byte', () => {
    const vectors = manifest(vectorsDir);
    const valid = vectors.filter((v) => v.kind === 'valid').length;
    const r = run(conformance, [vectorsDir]);
    expect(r.out).toContain('SELFTEST crc32c and cobs done');
    expect(r.out).not.toMatch(/MISMATCH|REENCODE|SELFTEST-FAIL|STALE-ALLOW|VECTOR-DEFECT/);
    expect(r.out).toContain(`SUMMARY vectors=${vectors.length} valid=${valid} tolerated_defects=0 failures=0`);
    expect(vectors.length).toBeGreaterThanOrEqual(34);
    expect(r.status).toBe(0);
  });

  it('keeps the same decoder counters as the TS FrameDecoder for every vector', () => {
    const counters = parseCounters(run(conformance, [vectorsDir]).out);
    const vectors = manifest(vectorsDir);
    expect(counters.size).toBe(vectors.length);
    for (const { name } of vectors) {
      const ts = tsCounters(readFileSync(join(vectorsDir, `${name}.bin`)));
      expect({ name, ...counters.get(name) }).toEqual({
        name, bytes: ts.bytes, frames: ts.frames, resyncs: ts.resyncs, discarded: ts.discardedBytes, cobs: ts.cobsErrors,
        short: ts.tooShort, oversized: ts.oversized, crc: ts.crcErrors, version: ts.badVersion, unknown: ts.unknownType,
        lost: ts.seqLost, rewinds: ts.seqRewinds,
      });
    }
  });

  it('agrees with the TS codec on a random stream, all vectors back to back and edge segments', () => {
    const dir = join(work, 'extra');
    mkdirSync(dir);
    const random = randomFrames();
    expect(streamEvents(random).filter((e) => e.includes('ERROR'))).toEqual([]);
    writeVector(dir, 'random_frames', random);
    const all = manifest(vectorsDir).map(({ name }) => readFileSync(join(vectorsDir, `${name}.bin`)));
    const joined = Uint8Array.from(Buffer.concat(all));
    writeVector(dir, 'all_vectors_joined', joined);
    const edges = edgeSegments();
    const logText = Buffer.from(Array.from({ length: 200 }, (_, i) => ascii(i + 2))).toString('hex');
    expect(new Set(streamEvents(edges))).toEqual(new Set(['ERROR oversized', 'ERROR crc', 'ERROR cobs', 'ERROR short', 'BODY_ERROR HEARTBEAT', 'BODY_ERROR STATE', 'BODY_ERROR LOG', `LOG seq=9 t=16909060 level=1 text_hex=${logText}`]));
    writeVector(dir, 'edge_segments', edges);
    writeFileSync(join(dir, 'MANIFEST'), 'random_frames valid\nall_vectors_joined invalid\nedge_segments invalid\n');

    const r = run(conformance, [dir]);
    expect(r.out).toContain('SUMMARY vectors=3 valid=1 tolerated_defects=0 failures=0');
    expect(r.status).toBe(0);
    const counters = parseCounters(r.out);
    for (const [name, bytes] of [['all_vectors_joined', joined], ['edge_segments', edges]] as const) {
      const ts = tsCounters(bytes);
      expect(counters.get(name)).toMatchObject({ frames: ts.frames, resyncs: ts.resyncs, discarded: ts.discardedBytes, cobs: ts.cobsErrors, short: ts.tooShort, oversized: ts.oversized, crc: ts.crcErrors, lost: ts.seqLost, rewinds: ts.seqRewinds });
    }
    expect(tsCounters(joined).seqRewinds).toBeGreaterThan(0);
  });

  it('fails, naming the vector and the differing line, when an event does not match', () => {
    const dir = join(work, 'tampered');
    mkdirSync(dir);
    for (const f of readdirSync(vectorsDir)) if (f.startsWith('heartbeat.')) copyFileSync(join(vectorsDir, f), join(dir, f));
    writeFileSync(join(dir, 'heartbeat.events'), 'HEARTBEAT seq=100 t=5000 host_state=3\n');
    writeFileSync(join(dir, 'MANIFEST'), 'heartbeat valid\n');
    const r = run(conformance, [dir]);
    expect(r.status).toBe(1);
    expect(r.out).toContain('MISMATCH heartbeat (whole)');
    expect(r.out).toContain('expected: HEARTBEAT seq=100 t=5000 host_state=3');
    expect(r.out).toContain('got:      HEARTBEAT seq=100 t=5000 host_state=2');
  });
});

describe('C shim: MCU safety core', () => {
  it('passes the watchdog, e-stop latch, reset, clamping and time sync tests', () => {
    const r = run(mcuTest, []);
    expect(r.out).not.toContain('FAIL');
    const m = /MCU TESTS (\d+) checks, (\d+) failed/.exec(r.out);
    expect(m?.[2]).toBe('0');
    expect(Number(m?.[1])).toBeGreaterThan(200);
    expect(r.status).toBe(0);
  });
});

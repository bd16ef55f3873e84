import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildVectors } from './vectors/build.js';
import { streamEvents } from './stream-events.js';
import { FrameDecoder } from './frame-decoder.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'vectors');
const manifest = readFileSync(join(dir, 'MANIFEST'), 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]);

describe('conformance vectors', () => {
  it('committed files match vectors/build.ts (no drift; run `npm run vectors` after a deliberate change)', () => {
    const built = buildVectors();
    expect(manifest.map(([n, k]) => `${n} ${k}`)).toEqual(built.map((v) => `${v.name} ${v.kind}`));
    for (const v of built) {
      expect(Buffer.from(readFileSync(join(dir, `${v.name}.bin`))).equals(Buffer.from(v.bytes)), v.name).toBe(true);
      expect(readFileSync(join(dir, `${v.name}.events`), 'utf8'), v.name).toBe(v.events.join('\n') + '\n');
    }
    const files = readdirSync(dir).filter((f) => f.endsWith('.bin'));
    expect(files.length).toBe(built.length);
  });

  it('covers every message type and every error kind', () => {
    const all = manifest.flatMap(([name]) => readFileSync(join(dir, `${name}.events`), 'utf8').trim().split('\n'));
    const heads = new Set(all.map((l) => l.split(' ')[0] === 'ERROR' || l.startsWith('BODY_ERROR') ? l : l.split(' ')[0]));
    for (const t of ['HELLO', 'STATE', 'COMMAND', 'HEARTBEAT', 'ESTOP', 'RESET', 'TIME_SYNC_REQ', 'TIME_SYNC_RESP', 'CONFIG', 'ACK', 'LOG']) expect(heads, t).toContain(t);
    for (const e of ['cobs', 'short', 'oversized', 'crc', 'version', 'unknown-type']) expect(heads, e).toContain(`ERROR ${e}`);
    expect(all.some((l) => l.startsWith('BODY_ERROR'))).toBe(true);
  });

  // Written by hand, independently of the generator, so the generated events are checked, not trusted.
  it.each([
    ['bad_cobs_block_past_end', ['ERROR cobs']],
    ['bad_crc_bit_flip', ['ERROR crc']],
    ['bad_version', ['ERROR version']],
    ['command_bad_mode', ['BODY_ERROR COMMAND']],
    ['command_nan_velocity', ['BODY_ERROR COMMAND']],
    ['config_min_above_max', ['BODY_ERROR CONFIG']],
    ['estop_bad_category', ['BODY_ERROR ESTOP']],
    ['garbage_then_frame', ['ERROR cobs', 'HEARTBEAT seq=5 t=5 host_state=0']],
    ['oversized_segment', ['ERROR oversized']],
    ['log_invalid_utf8', ['BODY_ERROR LOG']],
    ['reset_unknown_bits', ['BODY_ERROR RESET']],
    ['state_length_mismatch', ['BODY_ERROR STATE']],
    ['state_too_many_joints', ['BODY_ERROR STATE']],
    ['too_short', ['ERROR short']],
    ['truncated_frame', ['ERROR cobs']],
    ['unknown_type', ['ERROR unknown-type']],
    ['stream_three_frames', ['HEARTBEAT seq=65534 t=1 host_state=1', 'HEARTBEAT seq=65535 t=2 host_state=1', 'HEARTBEAT seq=0 t=3 host_state=1']],
    ['estop_cat0', ['ESTOP seq=1 t=1 category=0 source=4 reason=7']],
    ['time_sync_resp', ['TIME_SYNC_RESP seq=11 t=300 id=77 rx=4294967000 tx=200']],
    // SPEC 1.1 check order: oversized, cobs, short, crc, version, unknown type, body.
    ['order_cobs_before_short', ['ERROR cobs']],
    ['order_crc_before_version', ['ERROR crc']],
    ['order_crc_before_body', ['ERROR crc']],
    ['order_version_before_type', ['ERROR version']],
    ['order_type_before_body', ['ERROR unknown-type']],
    ['estop_bad_source', ['BODY_ERROR ESTOP']],
    ['estop_host_shutdown_reason_0', ['ESTOP seq=20 t=20 category=1 source=0 reason=0']],
    ['ack_config_bad_value', ['ACK seq=21 t=21 acked_type=9 result=2 acked_seq=12 detail=0']],
  ])('%s reports exactly %j', (name, events) => {
    expect(readFileSync(join(dir, `${name}.events`), 'utf8').trim().split('\n')).toEqual(events);
  });

  it('a full 254-byte block that ends the packet is followed by a 0x01 code byte; without it the frame still decodes', () => {
    const canonical = new Uint8Array(readFileSync(join(dir, 'cobs_full_run_trailing_code.bin')));
    const lenient = new Uint8Array(readFileSync(join(dir, 'cobs_full_run_no_trailing_code.bin')));
    expect(Array.from(canonical.subarray(-2))).toEqual([0x01, 0x00]);
    expect(lenient.length).toBe(canonical.length - 1);
    expect(canonical[canonical.length - 257]).toBe(0xff);
    expect(streamEvents(lenient)).toEqual(streamEvents(canonical));
    expect(manifest.find(([n]) => n === 'cobs_full_run_no_trailing_code')?.[1]).toBe('accepted');
  });

  it('STATE.imu_sample and the orientation block without IMU decode as written', () => {
    const [counter] = streamEvents(new Uint8Array(readFileSync(join(dir, 'state_imu_sample_counter.bin'))));
    expect(counter).toContain(' flags=3 ');
    expect(counter).toContain(' imu_sample=65535 ');
    const [orientation] = streamEvents(new Uint8Array(readFileSync(join(dir, 'state_orientation_without_imu.bin'))));
    expect(orientation).toContain(' flags=2 ');
    expect(orientation).not.toContain(' acc=');
    expect(orientation).toContain(' quat=');
  });

  it('counts a sequence gap as lost frames, and a HELLO with seq 0 as a restart wherever the old number was', () => {
    const counters = (name: string): { lost: number; rewinds: number } => {
      const d = new FrameDecoder();
      d.push(new Uint8Array(readFileSync(join(dir, `${name}.bin`))), { onFrame: () => undefined });
      return { lost: d.counters.seqLost, rewinds: d.counters.seqRewinds };
    };
    expect(counters('seq_gap_counts_lost')).toEqual({ lost: 3, rewinds: 0 });
    // 53000 -> 0 is a forward gap of 12535 by arithmetic alone; the HELLO makes it a restart.
    expect(counters('seq_restart_at_hello')).toEqual({ lost: 0, rewinds: 1 });
    expect(counters('stream_three_frames')).toEqual({ lost: 0, rewinds: 0 });
  });

  it.each(manifest)('%s decodes to its events whole, byte by byte and in odd chunks', (name) => {
    const bytes = new Uint8Array(readFileSync(join(dir, `${name}.bin`)));
    const expected = readFileSync(join(dir, `${name}.events`), 'utf8').trim().split('\n');
    expect(streamEvents(bytes)).toEqual(expected);
    expect(streamEvents(bytes, 1)).toEqual(expected);
    expect(streamEvents(bytes, 7)).toEqual(expected);
  });
});

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildVectors } from './vectors/build.js';
import { streamEvents } from './stream-events.js';

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
  ])('%s reports exactly %j', (name, events) => {
    expect(readFileSync(join(dir, `${name}.events`), 'utf8').trim().split('\n')).toEqual(events);
  });

  it.each(manifest)('%s decodes to its events whole, byte by byte and in odd chunks', (name) => {
    const bytes = new Uint8Array(readFileSync(join(dir, `${name}.bin`)));
    const expected = readFileSync(join(dir, `${name}.events`), 'utf8').trim().split('\n');
    expect(streamEvents(bytes)).toEqual(expected);
    expect(streamEvents(bytes, 1)).toEqual(expected);
    expect(streamEvents(bytes, 7)).toEqual(expected);
  });
});

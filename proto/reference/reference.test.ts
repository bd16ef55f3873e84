/** docs/mqtt.md, docs/brain-api.md and SPEC.md's message table are what the code generates. */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from './generate.js';
import { renderMessageTable } from './serial-table.js';
import { TOPICS } from './mqtt-topics.js';
import { parseTopic } from '../mqtt/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('generated references', () => {
  it.each(generatedFiles(root).map((f) => [relative(root, f.path), f] as const))('%s has not drifted from the code (run npm run docs)', (_name, f) => {
    expect(readFileSync(f.path, 'utf8')).toBe(f.content);
  });

  it('the message table lists all eleven types with their codec sizes', () => {
    const t = renderMessageTable();
    expect(t).toContain('| 0x02 | STATE | MCU → host | 12 + 12·N (+24 IMU) (+16 orientation) |');
    expect(t.split('\n').filter((l) => /^\| 0x/.test(l))).toHaveLength(11);
  });

  it('every topic and example of the MQTT reference parses as a topic of the contract', () => {
    for (const t of TOPICS) {
      expect(parseTopic(t.example), t.example).not.toBeNull();
      for (const e of t.examples) expect(parseTopic(e.topic), e.topic).not.toBeNull();
    }
  });
});

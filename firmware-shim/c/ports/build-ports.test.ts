/**
 * The firmware ports build with arm-none-eabi-gcc and warnings as errors, and the generated profile
 * gives the image the same hard limits as the virtual firmware's core. In CI (`.ci/run` installs the
 * toolchain) the build tests must run; elsewhere they are skipped when the toolchain is missing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getProfile } from '../../../hardware/index.js';
import { hardLimits } from '../../virtual/mcu.js';
import { armToolchain, BOARDS, buildImage, getBoard, profileSources } from './build-ports.js';

const toolchain = armToolchain();
if (toolchain === null && process.env.CI) throw new Error('CI must have arm-none-eabi-gcc (see .ci/run)');
const work = mkdtempSync(join(tmpdir(), 'spinal-ports-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('generated profile sources', () => {
  it('carry the virtual firmware\'s hard limits, and a limit scale narrows only the positions', () => {
    const p = getProfile('arm6-gripper');
    const full = profileSources(p).source;
    for (const j of p.joints) expect(full).toContain(`{ ${hardLimits(j).posMin}, ${hardLimits(j).posMax},`);
    const half = profileSources(p, { limitScale: 0.5 }).source;
    const shoulder = p.joints[0];
    if (!shoulder) throw new Error('profile without joints');
    const narrowed = hardLimits({ ...shoulder, limits: { ...shoulder.limits, positionMin: shoulder.limits.positionMin / 2, positionMax: shoulder.limits.positionMax / 2 } });
    expect(half).toContain(`{ ${narrowed.posMin}, ${narrowed.posMax},`);
    expect(() => profileSources(p, { limitScale: 0 })).toThrow(/limitScale 0/);
  });
});

describe.skipIf(toolchain === null)('firmware images', () => {
  it.each(BOARDS.map((b) => [b.name, b.profiles[0] ?? '']))('%s builds for %s with -Werror and fits its part', (board, profile) => {
    const img = buildImage({ board: getBoard(board), profile, out: join(work, board, `${profile}.elf`) });
    expect(img.size.text).toBeGreaterThan(4000);
    // The ports' linker scripts: 256 KiB / 64 KiB (AN386 as a mid-range MCU), 512 KiB / 128 KiB (F446).
    expect(img.size.text + img.size.data).toBeLessThan(256 * 1024);
    expect(img.size.data + img.size.bss).toBeLessThan(64 * 1024);
    // The shared core is linked unmodified: its HELLO answer and safety entry points are there.
    const map = readFileSync(join(`${img.elf}.d`, 'image.map'), 'utf8');
    for (const sym of ['spinal_mcu_on_frame', 'spinal_mcu_tick', 'spinal_decoder_push_byte', 'app_probe']) expect(map).toContain(sym);
  });
});

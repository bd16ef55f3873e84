import { describe, expect, it } from 'vitest';
import { getProfile, radToCounts } from '../../hardware/index.js';
import { PROTOCOL_MAJOR, Role } from '../../proto/wire/index.js';
import { buildConfig, buildHostHello, checkMcuHello, jointCountLimits } from './handshake.js';
import { testJoint, testProfile } from './testing/profile-fixture.js';

describe('handshake messages', () => {
  it('builds the host HELLO from the profile and software version', () => {
    const h = buildHostHello(testProfile(), { major: 2, minor: 3, patch: 400 });
    expect(h).toMatchObject({ protoMajor: PROTOCOL_MAJOR, role: Role.HOST, jointCount: 3, profileId: 'test-arm3', fwMajor: 2, fwMinor: 3, fwPatch: 400, deviceId: 0 });
  });

  it('accepts a fitting MCU HELLO', () => {
    const p = testProfile();
    expect(checkMcuHello({ ...buildHostHello(p, { major: 1, minor: 0, patch: 0 }), role: Role.MCU }, p)).toBeNull();
  });

  it('orders limits of a reversed joint', () => {
    const j = testJoint('elbow', { direction: -1, zeroOffsetCounts: 1000 });
    const lim = jointCountLimits(j);
    expect(lim.posMin).toBeLessThan(lim.posMax);
    expect(lim.posMin).toBe(radToCounts(j, j.limits.positionMax));
    expect(lim.posMax).toBe(radToCounts(j, j.limits.positionMin));
  });

  it('keeps single-turn limits in sensor counts when the arc does not cross the wrap', () => {
    const j = testJoint('wrist', { countsPerRev: 16384, gearRatio: 1, zeroOffsetCounts: 8000, singleTurn: true }, { positionMin: -2, positionMax: 2 });
    const lim = jointCountLimits(j);
    expect(lim.note).toBeUndefined();
    expect(lim.posMin).toBeGreaterThanOrEqual(0);
    expect(lim.posMax).toBeLessThan(16384);
    expect(lim.posMin).toBeLessThan(lim.posMax);
  });

  it('sends the full sensor range when a single-turn arc crosses the wrap, and says so', () => {
    for (const direction of [1, -1] as const) {
      const j = testJoint('wrist', { countsPerRev: 4096, gearRatio: 1, zeroOffsetCounts: 100, singleTurn: true, direction }, { positionMin: -1, positionMax: 1 });
      const lim = jointCountLimits(j);
      expect(lim).toMatchObject({ posMin: 0, posMax: 4095 });
      expect(lim.note).toMatch(/across the single-turn encoder's wrap/);
    }
  });

  it('builds a CONFIG with ordered, finite limits for the shipped profiles', () => {
    for (const id of ['arm6-gripper', 'quadruped12']) {
      const p = getProfile(id);
      const cfg = buildConfig(p, p.serial.watchdogMs, p.serial.stateRateHz);
      expect(cfg.jointCount).toBe(p.joints.length);
      for (let j = 0; j < cfg.jointCount; j++) {
        expect(cfg.posMin[j]).toBeLessThanOrEqual(cfg.posMax[j] as number);
        expect(cfg.velMax[j]).toBeGreaterThan(0);
        expect(cfg.currentMax[j]).toBeGreaterThan(0);
      }
    }
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile, listProfiles, loadProfileFile, parseProfile, ProfileError, type RobotProfile } from './index.js';

/** A fresh, mutable copy of a built-in profile's JSON. */
function rawProfile(id: string): Record<string, unknown> & { joints: Record<string, Record<string, unknown>>[] } {
  return JSON.parse(readFileSync(new URL(`./profiles/${id}.json`, import.meta.url), 'utf8')) as never;
}

function errorOf(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProfileError) return err;
    throw err;
  }
  throw new Error('expected a ProfileError');
}

describe('built-in profiles', () => {
  it('lists both built-ins', () => {
    expect(listProfiles()).toEqual(['arm6-gripper', 'quadruped12']);
  });

  it('loads arm6-gripper: 6 revolute joints and a gripper, fused IMU, 2 Mbaud at 1 kHz', () => {
    const p = getProfile('arm6-gripper');
    expect(p.joints).toHaveLength(7);
    expect(p.joints.filter((j) => j.kind === 'gripper').map((j) => j.name)).toEqual(['gripper']);
    expect(p.imu?.fusedOrientation).toBe(true);
    expect(p.serial).toEqual({ baudRate: 2_000_000, stateRateHz: 1000, watchdogMs: 100 });
    expect(p.poses['home']).toHaveLength(7);
  });

  it('loads quadruped12: 12 joints, unfused IMU, a reversed and a single-turn encoder', () => {
    const p = getProfile('quadruped12');
    expect(p.joints).toHaveLength(12);
    expect(p.imu?.fusedOrientation).toBe(false);
    expect(p.joints.some((j) => j.encoder.direction === -1)).toBe(true);
    expect(p.joints.some((j) => j.encoder.singleTurn)).toBe(true);
  });

  it('hands out frozen profiles with a unit mount quaternion', () => {
    const p = getProfile('quadruped12');
    expect(Object.isFrozen(p.joints[0]?.limits)).toBe(true);
    expect(() => {
      (p.serial as { baudRate: number }).baudRate = 1;
    }).toThrow(TypeError);
    expect(Math.hypot(...(p.imu?.mount ?? []))).toBeCloseTo(1, 12);
  });

  it('refuses an unknown id, listing the known ones', () => {
    const err = errorOf(() => getProfile('hexapod'));
    expect(err.message).toBe('profile hexapod: unknown profile id; known ids: arm6-gripper, quadruped12');
  });
});

describe('parseProfile refuses invalid profiles, naming the field and value', () => {
  const cases: { what: string; edit: (p: ReturnType<typeof rawProfile>) => void; message: string }[] = [
    {
      what: 'a negative limit',
      edit: (p) => {
        (p.joints[2]?.['limits'] as Record<string, unknown>)['velocityMax'] = -1;
      },
      message: 'profile arm6-gripper: joints[2].limits.velocityMax must be > 0 (got -1)',
    },
    {
      what: 'a missing field',
      edit: (p) => {
        delete (p.joints[1]?.['encoder'] as Record<string, unknown>)['countsPerRev'];
      },
      message: 'profile arm6-gripper: joints[1].encoder.countsPerRev is missing',
    },
    {
      what: 'a wrong type',
      edit: (p) => {
        (p['serial'] as Record<string, unknown>)['baudRate'] = '2M';
      },
      message: 'profile arm6-gripper: serial.baudRate must be a number (got "2M")',
    },
    {
      what: 'a fractional count',
      edit: (p) => {
        (p.joints[0]?.['encoder'] as Record<string, unknown>)['zeroOffsetCounts'] = 1.5;
      },
      message: 'profile arm6-gripper: joints[0].encoder.zeroOffsetCounts must be an integer (got 1.5)',
    },
    {
      what: 'a bad direction',
      edit: (p) => {
        (p.joints[3]?.['encoder'] as Record<string, unknown>)['direction'] = 0;
      },
      message: 'profile arm6-gripper: joints[3].encoder.direction must be one of 1, -1 (got 0)',
    },
    {
      what: 'min above max',
      edit: (p) => {
        const lim = p.joints[4]?.['limits'] as Record<string, unknown>;
        lim['positionMin'] = 2.5;
      },
      message: 'profile arm6-gripper: joints[4].limits.positionMin must be < positionMax 2 (got 2.5)',
    },
    {
      what: 'a home pose out of limits',
      edit: (p) => {
        (p['poses'] as Record<string, number[]>)['home'] = [0, 0, 3, 0, 0, 0, 0];
      },
      message: 'profile arm6-gripper: poses.home[2] must lie within joints[2].limits [-2.6, 2.6] (got 3)',
    },
    {
      what: 'a pose of the wrong length',
      edit: (p) => {
        (p['poses'] as Record<string, number[]>)['home'] = [0, 0, 0];
      },
      message: 'profile arm6-gripper: poses.home must have 7 entries, one per joint (got 3)',
    },
    {
      what: 'no home pose',
      edit: (p) => {
        delete (p['poses'] as Record<string, number[]>)['home'];
      },
      message: 'profile arm6-gripper: poses.home is missing',
    },
    {
      what: 'an id too long for the HELLO',
      edit: (p) => {
        p['id'] = 'a-very-long-profile-identifier';
      },
      message: 'profile arm6-gripper: id must have at most 24 characters (got "a-very-long-profile-identifier")',
    },
    {
      what: 'a non-ASCII id',
      edit: (p) => {
        p['id'] = 'bras-articulé';
      },
      message: 'profile arm6-gripper: id must be printable ASCII (got "bras-articulé")',
    },
    {
      what: 'duplicate joint names',
      edit: (p) => {
        (p.joints[5] as Record<string, unknown>)['name'] = 'elbow';
      },
      message: 'profile arm6-gripper: joints[5].name duplicates joints[2].name (got "elbow")',
    },
    {
      what: 'an unknown field',
      edit: (p) => {
        (p.joints[0]?.['limits'] as Record<string, unknown>)['velocityMaxx'] = 3;
      },
      message: 'profile arm6-gripper: joints[0].limits has unknown field "velocityMaxx"',
    },
    {
      what: 'no joints',
      edit: (p) => {
        p.joints = [];
      },
      message: 'profile arm6-gripper: joints must have at least 1 entry (got [])',
    },
    {
      what: 'a non-unit IMU mount',
      edit: (p) => {
        (p['imu'] as Record<string, unknown>)['mount'] = [1, 0, 0, 0.5];
      },
      message: 'profile arm6-gripper: imu.mount must be a unit quaternion w,x,y,z (norm 1.118) (got [1,0,0,0.5])',
    },
    {
      what: 'a baud rate too slow for the STATE rate',
      edit: (p) => {
        (p['serial'] as Record<string, unknown>)['baudRate'] = 1_000_000;
      },
      message: 'profile arm6-gripper: serial.baudRate is too slow for 1000 STATE frames/s of 150 bytes (needs >= 1500000) (got 1000000)',
    },
  ];

  it.each(cases)('$what', ({ edit, message }) => {
    const raw = rawProfile('arm6-gripper');
    edit(raw);
    const err = errorOf(() => parseProfile(raw, 'arm6-gripper'));
    expect(err.message).toBe(message);
    expect(err.source).toBe('arm6-gripper');
    expect(err.issues.length).toBeGreaterThan(0);
  });

  it('reports every problem at once, each as data', () => {
    const raw = rawProfile('arm6-gripper');
    (raw.joints[0]?.['limits'] as Record<string, unknown>)['currentMax'] = 0;
    (raw['firmware'] as Record<string, unknown>)['major'] = 256;
    const err = errorOf(() => parseProfile(raw, 'mine'));
    expect(err.issues.map((i) => i.path)).toEqual(['joints[0].limits.currentMax', 'firmware.major']);
    expect(err.message).toBe('profile mine: joints[0].limits.currentMax must be > 0 (got 0); firmware.major must be <= 255 (got 256)');
  });

  it('refuses a document that is not an object', () => {
    expect(() => parseProfile([1, 2], 'x')).toThrow('profile x: profile must be an object (got [1,2])');
  });

  it('keeps single-turn encoders unambiguous: gear ratio 1, limits inside (-π, π), offset within a turn', () => {
    const raw = rawProfile('quadruped12');
    const knee = raw.joints[2] as Record<string, Record<string, unknown>>;
    (knee['encoder'] as Record<string, unknown>)['gearRatio'] = 9;
    (knee['encoder'] as Record<string, unknown>)['zeroOffsetCounts'] = -1;
    (knee['limits'] as Record<string, unknown>)['positionMin'] = -3.2;
    (raw['poses'] as Record<string, number[]>)['lie'] = [0, 1.3, -2.6, 0, 1.3, -2.6, 0, 1.3, -2.6, 0, 1.3, -2.6];
    const err = errorOf(() => parseProfile(raw, 'q'));
    expect(err.issues.map((i) => i.message)).toEqual([
      'joints[2].limits.positionMin must lie inside (-π, π) for a single-turn encoder (got -3.2)',
      'joints[2].encoder.gearRatio must be 1 for a single-turn encoder (it sits on the joint output) (got 9)',
      'joints[2].encoder.zeroOffsetCounts must be in 0..16383 for a single-turn encoder (got -1)',
    ]);
  });

  it('accepts a built-in round-tripped through JSON', () => {
    const p: RobotProfile = parseProfile(rawProfile('quadruped12'), 'copy');
    expect(p).toEqual(getProfile('quadruped12'));
  });
});

describe('loadProfileFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-profile-'));

  it('loads a valid user file', () => {
    const raw = rawProfile('arm6-gripper');
    raw['id'] = 'my-arm';
    const path = join(dir, 'my-arm.json');
    writeFileSync(path, JSON.stringify(raw));
    expect(loadProfileFile(path).id).toBe('my-arm');
  });

  it('names the file it cannot read', () => {
    const path = join(dir, 'absent.json');
    const err = errorOf(() => loadProfileFile(path));
    expect(err.message).toMatch(new RegExp(`^profile ${path}: cannot read the file \\(ENOENT`));
    expect(err.source).toBe(path);
  });

  it('names the file whose JSON is broken', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "id": "x", ');
    expect(() => loadProfileFile(path)).toThrow(new RegExp(`^profile ${path}: is not valid JSON \\(`));
  });

  it('names the file and the field of an invalid profile', () => {
    const raw = rawProfile('quadruped12');
    (raw.joints[7]?.['servo'] as Record<string, unknown>)['dampingRatio'] = -0.5;
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify(raw));
    expect(() => loadProfileFile(path)).toThrow(`profile ${path}: joints[7].servo.dampingRatio must be > 0 (got -0.5)`);
  });
});

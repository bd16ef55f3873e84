/**
 * Robot profiles by name: the built-in registry (JSON files in ./profiles, validated when this
 * module loads, so a broken built-in fails at start-up, not mid-run), and loading a user's file.
 * Every profile handed out is deeply frozen: it is shared, and nobody may edit it in place.
 */
import { readFileSync } from 'node:fs';
import { crossFieldIssues } from './profile-checks.js';
import { ProfileError } from './profile-error.js';
import { fromZodIssues } from './profile-issues.js';
import { robotProfileSchema } from './profile-schema.js';
import type { RobotProfile } from './profile-types.js';
import arm6Gripper from './profiles/arm6-gripper.json' with { type: 'json' };
import quadruped12 from './profiles/quadruped12.json' with { type: 'json' };

/** Validates an already-parsed JSON value as a robot profile. `source` names it in errors (a
 * built-in id or a file path). Throws ProfileError listing every problem found. */
export function parseProfile(obj: unknown, source: string): RobotProfile {
  const parsed = robotProfileSchema.safeParse(obj);
  if (!parsed.success) throw new ProfileError(source, fromZodIssues(parsed.error.issues, obj));
  const profile = parsed.data;
  const issues = crossFieldIssues(profile);
  if (issues.length > 0) throw new ProfileError(source, issues);
  if (profile.imu !== null) {
    // Invariant from here on: imu.mount has norm 1 (the checks allowed rounding of 1e-3).
    const m = profile.imu.mount;
    const n = Math.hypot(...m);
    profile.imu.mount = [m[0] / n, m[1] / n, m[2] / n, m[3] / n];
  }
  return deepFreeze(profile);
}

/** Reads and validates a user's profile JSON file. Errors name the file. */
export function loadProfileFile(path: string): RobotProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProfileError(path, `cannot read the file (${(err as Error).message})`, { cause: err });
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(path, `is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return parseProfile(obj, path);
}

const BUILT_IN: ReadonlyMap<string, RobotProfile> = (() => {
  const files: ReadonlyArray<readonly [string, unknown]> = [
    ['arm6-gripper', arm6Gripper],
    ['quadruped12', quadruped12],
  ];
  const map = new Map<string, RobotProfile>();
  for (const [fileId, json] of files) {
    const profile = parseProfile(json, fileId);
    if (profile.id !== fileId) throw new ProfileError(fileId, `built-in file declares id ${JSON.stringify(profile.id)}, expected the file name`);
    map.set(profile.id, profile);
  }
  return map;
})();

/** The ids of the built-in profiles, sorted. */
export function listProfiles(): string[] {
  return [...BUILT_IN.keys()].sort();
}

/** A built-in profile by id; an unknown id throws ProfileError listing the known ids. */
export function getProfile(id: string): RobotProfile {
  const profile = BUILT_IN.get(id);
  if (profile === undefined) throw new ProfileError(id, `unknown profile id; known ids: ${listProfiles().join(', ')}`);
  return profile;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

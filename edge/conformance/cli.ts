/**
 * The command-line face of `spinal conformance`: says what will move, asks before anything is
 * powered (unless --yes), runs the checks and sets the exit code (0 all passed, 1 a check failed).
 */
import { createInterface } from 'node:readline/promises';
import { getProfile } from '../../hardware/index.js';
import { CHECK_IDS, isCheckId, runConformance, type CheckId } from './run-conformance.js';

export interface ConformanceCliOptions {
  port: string;
  profile: string;
  yes?: boolean;
  json?: string;
  only?: string;
  baud?: number;
  ackTimeout?: number;
  software: { major: number; minor: number; patch: number };
}

/** Parses --only; throws naming the unknown check. */
export function parseOnly(list: string): CheckId[] {
  const ids = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const id of ids) if (!isCheckId(id)) throw new Error(`--only: unknown check ${JSON.stringify(id)} (checks: ${CHECK_IDS.join(', ')})`);
  return ids as CheckId[];
}

async function askOnTerminal(plan: string[], port: string): Promise<boolean> {
  process.stderr.write(`spinal conformance will, on the robot at ${port}:\n${plan.map((l) => `  - ${l}\n`).join('')}`);
  if (!process.stdin.isTTY) {
    process.stderr.write('spinal conformance: no terminal to confirm on; pass --yes to run without asking\n');
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question('The robot must be free to move and supported. Continue? [y/N] ');
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Returns the process exit code. */
export async function runConformanceCli(o: ConformanceCliOptions): Promise<number> {
  const profile = getProfile(o.profile);
  const only = o.only !== undefined ? parseOnly(o.only) : undefined;
  const report = await runConformance({
    port: o.port, profile, software: o.software,
    ...(o.baud !== undefined ? { baudRate: o.baud } : {}),
    ...(o.ackTimeout !== undefined ? { ackTimeoutMs: o.ackTimeout } : {}),
    ...(only ? { only } : {}),
    ...(o.json !== undefined ? { json: o.json } : {}),
    confirm: async (plan) => {
      if (!o.yes) return askOnTerminal(plan, o.port);
      process.stderr.write(`spinal conformance (--yes) will:\n${plan.map((l) => `  - ${l}\n`).join('')}`);
      return true;
    },
    out: (l) => void process.stdout.write(`${l}\n`),
  });
  return report.failed > 0 ? 1 : 0;
}

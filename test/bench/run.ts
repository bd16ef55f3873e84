import { renderTable, writeResult } from './harness.js';
import { scenarios } from './scenarios.js';

/** Runs the named scenarios (all when none is named); returns the process exit code. */
export async function runBenchmarks(names: string[]): Promise<number> {
  const unknown = names.filter((n) => !scenarios.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark scenario ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const chosen = names.length === 0 ? scenarios : scenarios.filter((s) => names.includes(s.name));
  for (const s of chosen) {
    const result = await s.run();
    console.log(renderTable(result));
    console.log(`   results: ${writeResult(result)}\n`);
  }
  return 0;
}

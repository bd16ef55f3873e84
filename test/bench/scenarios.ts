/** The benchmark scenarios, registered by name. */
import type { Scenario } from './harness.js';
import { scenario as codecDecode } from './codec-decode.bench.js';

export const scenarios: Scenario[] = [codecDecode];

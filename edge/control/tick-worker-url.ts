/** Where the tick worker's code is: tick-worker.js beside this module, or its sources (see ../decoder/worker-entry.ts). */
import { workerModuleUrl } from '../decoder/worker-entry.js';

export function tickWorkerUrl(): URL {
  return workerModuleUrl(import.meta.url, 'tick-worker');
}

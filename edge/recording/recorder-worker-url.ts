/** Where the recorder's writer thread code is: recorder-worker.js beside this module, or its sources (see ../decoder/worker-entry.ts). */
import { workerModuleUrl } from '../decoder/worker-entry.js';

export function recorderWorkerUrl(): URL {
  return workerModuleUrl(import.meta.url, 'recorder-worker');
}

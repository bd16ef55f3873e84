/**
 * The plain HTTP health endpoint for load balancers (HAProxy's `option httpchk GET /healthz`),
 * whose checks cannot present the client certificate the gRPC listener requires.
 *
 * GET (or HEAD) /healthz answers 200 "serving" while the brain takes robots, 503 "draining" once
 * it is shutting down and 503 "not ready" before it serves; anything else is 404. While draining it
 * counts the 503s it gave, so the drain can wait until the balancer has seen enough of them to
 * mark this replica down (HAProxy's `fall`) before it sends its robots away.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type HealthState = 'not-ready' | 'serving' | 'draining';

export interface HealthEndpoint {
  port: number;
  state: HealthState;
  /** 503s answered since the state became 'draining'. */
  readonly drainingAnswers: number;
  /** Resolves once `n` checks have been answered 503 "draining" (at once when already so). */
  drainingSeen(n: number): Promise<void>;
  close(): Promise<void>;
}

export const HEALTH_PATH = '/healthz';

export async function startHealthEndpoint(host: string, port: number, initial: HealthState = 'not-ready'): Promise<HealthEndpoint> {
  let state = initial;
  let drainingAnswers = 0;
  const waiters: { n: number; resolve(): void }[] = [];
  const server: Server = createServer((req, res) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (req.url ?? '').split('?')[0] !== HEALTH_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: GET ${HEALTH_PATH}\n`);
      return;
    }
    const ok = state === 'serving';
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(ok ? 'serving\n' : `${state === 'draining' ? 'draining' : 'not ready'}\n`);
    if (state === 'draining') {
      drainingAnswers++;
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i] as { n: number; resolve(): void };
        if (drainingAnswers >= w.n) {
          waiters.splice(i, 1);
          w.resolve();
        }
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  return {
    port: (server.address() as AddressInfo).port,
    get state() { return state; },
    set state(s: HealthState) {
      if (s === 'draining' && state !== 'draining') drainingAnswers = 0;
      state = s;
    },
    get drainingAnswers() { return drainingAnswers; },
    drainingSeen(n: number): Promise<void> {
      if (state === 'draining' && drainingAnswers >= n) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ n, resolve }));
    },
    close: () => new Promise<void>((resolve) => {
      for (const w of waiters.splice(0)) w.resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Test harness for suites that run a real BrainServer over loopback gRPC: start servers and open
 * session clients, all closed after each test. Call brainServerHarness() at the top level of a test
 * file (it registers an afterEach there).
 */
import { afterEach } from 'vitest';
import type * as grpc from '@grpc/grpc-js';
import type { BrainBackend } from '../backends/backend.js';
import { BrainServer, type BrainServerOptions } from '../brain/brain-server.js';
import { TestSession, brainClient, testHello } from './brain-test-client.js';
import { ScriptedBackend } from './scripted-backend.js';

type Overrides<B extends BrainBackend> = Partial<Omit<BrainServerOptions, 'backend'>> & { backend?: B };

export interface BrainServerHarness {
  /** A plaintext server on a free 127.0.0.1 port; its backend is `over.backend`, else a new ScriptedBackend. */
  start<B extends BrainBackend = ScriptedBackend>(over?: Overrides<B>): Promise<{ server: BrainServer; backend: B; address: string }>;
  /** A new session stream to `address`, nothing sent yet. */
  session(address: string): TestSession;
  /** A session that has sent testHello(robotId) and received its welcome. */
  opened(address: string, robotId: string): Promise<TestSession>;
  /** Closes `client` after the test; returns it. */
  track<C extends grpc.Client>(client: C): C;
}

/** `defaults` apply to every start() of the file; start()'s own options override them. */
export function brainServerHarness(defaults: Omit<BrainServerOptions, 'host' | 'port' | 'tls' | 'backend'>): BrainServerHarness {
  const open: BrainServer[] = [];
  const clients: grpc.Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(open.splice(0).map((s) => s.stop()));
  });

  const track = <C extends grpc.Client>(client: C): C => {
    clients.push(client);
    return client;
  };
  const session = (address: string): TestSession => new TestSession(track(brainClient(address)));

  return {
    async start<B extends BrainBackend = ScriptedBackend>(over: Overrides<B> = {}) {
      const backend = (over.backend ?? new ScriptedBackend()) as B;
      const server = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, ...defaults, ...over, backend });
      open.push(server);
      return { server, backend, address: `127.0.0.1:${server.port}` };
    },
    session,
    track,
    async opened(address, robotId) {
      const s = session(address);
      s.hello(testHello(robotId));
      await s.next('welcome');
      return s;
    },
  };
}

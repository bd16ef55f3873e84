import { afterEach, describe, expect, it } from 'vitest';
import { DashboardServer } from './dashboard-server.js';
import { DashboardUsers } from './users.js';

const users = new DashboardUsers({ operators: [{ name: 'olga', password: 'op-secret' }], viewers: [] });

let server: DashboardServer | null = null;
afterEach(async () => { await server?.close(); server = null; });

async function base(): Promise<string> {
  server = await DashboardServer.start({ fleet: 'f', robots: ['r1'], users, mqttUrl: 'ws://127.0.0.1:9001/mqtt', brain: null });
  return server.url.replace(/\/$/, '');
}

describe('dashboard: malformed requests are the client\'s fault (400 naming the value), never a 500', () => {
  it('answers 400 to a session cookie that is not valid percent-encoding, on GET and on POST', async () => {
    const b = await base();
    const get = await fetch(`${b}/api/session`, { headers: { cookie: 'spinal_session=%E0%A4%A' } });
    expect(get.status).toBe(400);
    expect(((await get.json()) as { error: string }).error).toBe('cookie spinal_session "%E0%A4%A" is not valid percent-encoding');
    const logout = await fetch(`${b}/api/logout`, { method: 'POST', headers: { cookie: 'other=1; spinal_session=%' } });
    expect(logout.status).toBe(400);
    // A malformed cookie of another name is not ours to judge.
    expect((await fetch(`${b}/api/session`, { headers: { cookie: 'theirs=%' } })).status).toBe(401);
  });

  it('answers 400 to a robot id in the path that is not valid percent-encoding', async () => {
    const b = await base();
    const res = await fetch(`${b}/api/robots/%E0%A4%A/task`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('robot id "%E0%A4%A" is not valid percent-encoding');
  });
});

import { describe, expect, it } from 'vitest';
import { parseFleetAccounts } from './accounts.js';

const ok = { fleet: 'f', robots: [{ id: 'r1', password: 'p' }], operators: [{ name: 'olga', password: 'q' }], viewers: [{ name: 'vic', password: 'v' }], brains: [{ name: 'brain', password: 'b' }] };

describe('fleet accounts file', () => {
  it('accepts a fleet with robots, operators, viewers and brains, and defaults missing lists to empty', () => {
    expect(parseFleetAccounts(ok, 'a.json')).toEqual(ok);
    expect(parseFleetAccounts({ fleet: 'f' }, 'a.json')).toEqual({ fleet: 'f', robots: [], operators: [], viewers: [], brains: [] });
  });
  it('names the file and key of every problem, never a password', () => {
    expect(() => parseFleetAccounts({ ...ok, operators: [{ name: 'bad name', password: 'secret1' }] }, 'a.json'))
      .toThrow(/^accounts a\.json: operators\.0\.name: must be 1-64 letters/);
    expect(() => parseFleetAccounts({ ...ok, viewers: [{ name: 'vic', password: '' }] }, 'a.json')).toThrow('accounts a.json: viewers.0.password: must not be empty');
    expect(() => parseFleetAccounts({ ...ok, robots: [{ id: 'r1', password: 'two\nlines' }] }, 'a.json')).toThrow('robots.0.password: must be on one line');
    expect(() => parseFleetAccounts({ ...ok, extra: 1 }, 'a.json')).toThrow(/extra/);
    let message = '';
    try {
      parseFleetAccounts({ ...ok, operators: [{ name: 'olga', password: 'secret1' }, { name: 'olga', password: 'secret2' }] }, 'a.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('"olga" is defined twice');
    expect(message).not.toMatch(/secret/);
  });
  it('refuses a name used twice across robots, operators and viewers, and the reserved name "all"', () => {
    expect(() => parseFleetAccounts({ ...ok, viewers: [{ name: 'olga', password: 'v' }] }, 'a.json')).toThrow('accounts a.json: "olga" is defined twice');
    expect(() => parseFleetAccounts({ ...ok, robots: [{ id: 'all', password: 'p' }] }, 'a.json')).toThrow('"all" is reserved');
  });
});

import { describe, expect, it } from 'vitest';
import { aclRules, mayPublish, maySubscribe, type Identity } from './acl.js';
import { filterCovers, topicMatchesFilter } from './filters.js';
import { fleetTopics, parseTopic, robotTopics, TopicNameError } from './topics.js';

const robot: Identity = { username: 'r1', role: 'robot', fleet: 'f' };
const operator: Identity = { username: 'alice', role: 'operator', fleet: 'f' };
const viewer: Identity = { username: 'vic', role: 'viewer', fleet: 'f' };

describe('topics', () => {
  it('builds one versioned tree per fleet and robot and parses it back', () => {
    const t = robotTopics('f', 'r1');
    expect(t.estop).toBe('spinal/v1/f/r1/cmd/estop');
    expect(fleetTopics('f').estop).toBe('spinal/v1/f/all/cmd/estop');
    expect(parseTopic(t.estop)).toEqual({ kind: 'command', fleet: 'f', scope: 'robot', robot: 'r1', command: 'estop' });
    expect(parseTopic('spinal/v1/f/all/cmd/estop')).toEqual({ kind: 'command', fleet: 'f', scope: 'fleet', command: 'estop' });
    expect(parseTopic(t.state)).toEqual({ kind: 'channel', fleet: 'f', robot: 'r1', channel: 'state' });
    expect(parseTopic('spinal/v1/f/all/cmd/reset')).toBeNull();
    expect(t.resumeBy('alice')).toBe('spinal/v1/f/r1/cmd/resume/alice');
    expect(parseTopic(t.resumeBy('alice'))).toEqual({ kind: 'command', fleet: 'f', scope: 'robot', robot: 'r1', command: 'resume', sender: 'alice' });
    expect(parseTopic(t.resetBy('bob'))).toEqual({ kind: 'command', fleet: 'f', scope: 'robot', robot: 'r1', command: 'reset', sender: 'bob' });
    // A reset or resume names its sender; without one (or fleet-wide) it is no command at all.
    expect(parseTopic('spinal/v1/f/r1/cmd/reset')).toBeNull();
    expect(parseTopic('spinal/v1/f/r1/cmd/resume')).toBeNull();
    expect(parseTopic('spinal/v1/f/all/cmd/resume/alice')).toBeNull();
    expect(parseTopic('spinal/v1/f/r1/cmd/estop/alice')).toBeNull();
    expect(parseTopic('spinal/v1/f/r1/cmd/reset/a+b')).toBeNull();
    expect(() => t.resetBy('a/b')).toThrow(TopicNameError);
    expect(parseTopic('spinal/v2/f/r1/state')).toBeNull();
    expect(parseTopic('spinal/v1/f/all/state')).toBeNull();
  });

  it('refuses names that would break the tree, naming the value', () => {
    expect(() => robotTopics('f', 'all')).toThrow(/"all" is reserved/);
    expect(() => robotTopics('f', 'a/b')).toThrow(TopicNameError);
    expect(() => robotTopics('f+', 'r1')).toThrow(/fleet name "f\+"/);
  });
});

describe('filters', () => {
  it('matches topics per MQTT 3.1.1', () => {
    expect(topicMatchesFilter('a/b/c', 'a/+/c')).toBe(true);
    expect(topicMatchesFilter('a/b/c', 'a/#')).toBe(true);
    expect(topicMatchesFilter('a', 'a/#')).toBe(true);
    expect(topicMatchesFilter('a/b', 'a/+/c')).toBe(false);
    expect(topicMatchesFilter('$SYS/x', '#')).toBe(false);
  });
  it('covers a filter only when every topic it matches is allowed', () => {
    expect(filterCovers('a/+/cmd/#', 'a/x/cmd/estop')).toBe(true);
    expect(filterCovers('a/x/cmd/#', 'a/+/cmd/#')).toBe(false);
    expect(filterCovers('a/x/cmd/#', 'a/#')).toBe(false);
    expect(filterCovers('a/#', 'a/+/b')).toBe(true);
    expect(filterCovers('a/+', 'a/#')).toBe(false);
  });
});

describe('ACL', () => {
  const r = aclRules(robot);
  const o = aclRules(operator);
  const v = aclRules(viewer);
  it('a robot publishes only its own telemetry and reads only its own and fleet commands', () => {
    expect(mayPublish(r, 'spinal/v1/f/r1/state')).toBe(true);
    expect(mayPublish(r, 'spinal/v1/f/r1/status')).toBe(true);
    expect(mayPublish(r, 'spinal/v1/f/r2/state')).toBe(false);
    expect(mayPublish(r, 'spinal/v1/f/r1/cmd/reset/r1')).toBe(false);
    expect(mayPublish(r, 'spinal/v1/f/all/cmd/estop')).toBe(false);
    expect(maySubscribe(r, 'spinal/v1/f/r1/cmd/#')).toBe(true);
    expect(maySubscribe(r, 'spinal/v1/f/all/cmd/#')).toBe(true);
    expect(maySubscribe(r, 'spinal/v1/f/r2/cmd/#')).toBe(false);
    expect(maySubscribe(r, 'spinal/v1/f/+/cmd/#')).toBe(false);
    expect(maySubscribe(r, '#')).toBe(false);
  });
  it('operators command the fleet and read it; viewers only read', () => {
    expect(mayPublish(o, 'spinal/v1/f/r1/cmd/reset/alice')).toBe(true);
    expect(mayPublish(o, 'spinal/v1/f/all/cmd/estop')).toBe(true);
    expect(mayPublish(o, 'spinal/v1/f/r1/cmd/heartbeat')).toBe(true);
    expect(mayPublish(o, 'spinal/v1/f/all/cmd/heartbeat')).toBe(true);
    expect(mayPublish(o, 'spinal/v1/f/r1/state')).toBe(false);
    expect(mayPublish(o, 'spinal/v1/g/r1/cmd/estop')).toBe(false);
    expect(maySubscribe(o, 'spinal/v1/f/#')).toBe(true);
    expect(mayPublish(v, 'spinal/v1/f/r1/cmd/reset/vic')).toBe(false);
    expect(mayPublish(v, 'spinal/v1/f/r1/cmd/estop')).toBe(false);
    expect(maySubscribe(v, 'spinal/v1/f/+/state')).toBe(true);
    expect(maySubscribe(v, 'spinal/v1/#')).toBe(false);
  });
  it('only operators may publish a resume; robots and viewers may not; robots receive their own', () => {
    const t = robotTopics('f', 'r1');
    expect(mayPublish(o, t.resumeBy('alice'))).toBe(true);
    expect(mayPublish(o, 'spinal/v1/g/r1/cmd/resume/alice')).toBe(false);
    expect(mayPublish(r, t.resumeBy('r1'))).toBe(false);
    expect(mayPublish(r, robotTopics('f', 'r2').resumeBy('r1'))).toBe(false);
    expect(mayPublish(v, t.resumeBy('vic'))).toBe(false);
    expect(maySubscribe(r, t.resumeBy('alice'))).toBe(true);
    expect(maySubscribe(r, robotTopics('f', 'r2').resumeBy('alice'))).toBe(false);
  });
  it('an operator resets and resumes only under its own name: another operator\'s name, or none, is refused', () => {
    const t = robotTopics('f', 'r1');
    for (const kind of ['reset', 'resume'] as const) {
      expect(mayPublish(o, `spinal/v1/f/r1/cmd/${kind}/alice`)).toBe(true);
      expect(mayPublish(o, `spinal/v1/f/r1/cmd/${kind}/bob`)).toBe(false);
      expect(mayPublish(o, `spinal/v1/f/r1/cmd/${kind}`)).toBe(false);
      expect(mayPublish(o, `spinal/v1/f/r1/cmd/${kind}/alice/x`)).toBe(false);
    }
    expect(mayPublish(o, t.resetBy('bob'))).toBe(false);
    expect(mayPublish(aclRules({ username: 'bob', role: 'operator', fleet: 'f' }), t.resetBy('bob'))).toBe(true);
  });
  it('parses an episode mark with its sender; a viewer or robot may not write one, a robot reads its own', () => {
    const t = robotTopics('f', 'r1');
    expect(t.episodeBy('alice')).toBe('spinal/v1/f/r1/cmd/episode/alice');
    expect(parseTopic(t.episodeBy('alice'))).toEqual({ kind: 'command', fleet: 'f', scope: 'robot', robot: 'r1', command: 'episode', sender: 'alice' });
    expect(parseTopic('spinal/v1/f/r1/cmd/episode')).toBeNull();
    expect(parseTopic('spinal/v1/f/all/cmd/episode/alice')).toBeNull();
    expect(mayPublish(o, t.episodeBy('alice'))).toBe(true);
    expect(mayPublish(o, t.episodeBy('bob'))).toBe(false);
    expect(mayPublish(v, t.episodeBy('vic'))).toBe(false);
    expect(mayPublish(r, t.episodeBy('r1'))).toBe(false);
    expect(maySubscribe(r, t.episodes)).toBe(true);
  });
  it('over every account and every sender name, a reset or resume is writable only by an operator under its own name', () => {
    const ids: Identity[] = [operator, { username: 'bob', role: 'operator', fleet: 'f' }, viewer, robot, { username: 'r2', role: 'robot', fleet: 'f' }];
    for (const who of ids) {
      const rules = aclRules(who);
      for (const sender of ids.map((i) => i.username)) {
        for (const target of ['r1', 'r2']) {
          const t = robotTopics('f', target);
          for (const topic of [t.resetBy(sender), t.resumeBy(sender), t.episodeBy(sender)]) {
            expect(mayPublish(rules, topic), `${who.username} → ${topic}`).toBe(who.role === 'operator' && sender === who.username);
            // What the robot reads back from that topic is the sender the broker let through.
            expect(parseTopic(topic)).toMatchObject({ robot: target, sender });
          }
        }
      }
    }
  });
  it('never lets a wildcard through as a publish topic', () => {
    expect(mayPublish(o, 'spinal/v1/f/+/cmd/estop')).toBe(false);
  });
});

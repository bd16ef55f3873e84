/**
 * Who may publish and subscribe where: one rule set, evaluated by the embedded broker's hooks and
 * written out as a Mosquitto ACL file, so both brokers enforce the same contract.
 *
 * - robot R:    writes only its own status/state/brief/event; reads only its own commands and the fleet's.
 * - operator:   writes e-stops and heartbeats for any robot of the fleet (and fleet-wide), resets,
 *               resumes and episode marks only under its own name (`cmd/reset/<username>`); reads
 *               everything of it.
 * - viewer:     reads everything of the fleet; writes nothing.
 * - brain:      reads and writes every robot's retained `task` topic, and nothing else (a brain
 *               replica's task store; it never sees telemetry nor sends commands).
 * Invariant: no rule ever grants a write on another robot's telemetry, and only operators write
 * any `cmd/` topic; a reset, resume or episode topic always ends with its writer's own username, so the
 * robot learns who sent it from the broker, not from the payload.
 */
import { filterCovers, isValidFilter, topicMatchesFilter } from './filters.js';
import { TOPIC_ROOT, checkName, fleetTopics, robotTopics } from './topics.js';

export type Role = 'robot' | 'operator' | 'viewer' | 'brain';

export interface Identity {
  /** The MQTT username; a robot's username is its robot id. */
  username: string;
  role: Role;
  fleet: string;
}

export interface AclRule {
  access: 'read' | 'write';
  filter: string;
}

export function aclRules(id: Identity): AclRule[] {
  checkName(id.role === 'robot' ? 'robot' : 'user', id.username);
  const fleet = fleetTopics(id.fleet);
  switch (id.role) {
    case 'robot': {
      const own = robotTopics(id.fleet, id.username);
      return [
        { access: 'write', filter: own.status },
        { access: 'write', filter: own.state },
        { access: 'write', filter: own.brief },
        { access: 'write', filter: own.event },
        { access: 'read', filter: own.commands },
        { access: 'read', filter: fleet.commands },
      ];
    }
    case 'operator': {
      const any = `${TOPIC_ROOT}/${id.fleet}/+/cmd`;
      return [
        { access: 'read', filter: fleet.everything },
        { access: 'write', filter: `${any}/estop` },
        { access: 'write', filter: `${any}/heartbeat` },
        { access: 'write', filter: `${any}/reset/${id.username}` },
        { access: 'write', filter: `${any}/resume/${id.username}` },
        { access: 'write', filter: `${any}/episode/${id.username}` },
      ];
    }
    case 'viewer':
      return [{ access: 'read', filter: fleet.everything }];
    case 'brain':
      return [{ access: 'read', filter: fleet.tasks }, { access: 'write', filter: fleet.tasks }];
  }
}

export function mayPublish(rules: readonly AclRule[], topic: string): boolean {
  if (topic.includes('+') || topic.includes('#')) return false;
  return rules.some((r) => r.access === 'write' && topicMatchesFilter(topic, r.filter));
}

export function maySubscribe(rules: readonly AclRule[], filter: string): boolean {
  return isValidFilter(filter) && rules.some((r) => r.access === 'read' && filterCovers(r.filter, filter));
}

/**
 * ESTOP.reason codes the edge writes on the serial wire for remote stops (source REMOTE). The MCU
 * logs them; 2 is the serial spec's MALFORMED_ESTOP, the others sit above the MCU's own codes.
 */
export const RemoteEstopReason = { MALFORMED: 2, ROBOT_TOPIC: 16, FLEET_TOPIC: 17, DEADMAN: 18 } as const;

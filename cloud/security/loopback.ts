/** Which hosts count as loopback is shared with the edge's broker and robot client: it lives in proto. */
export * from '../../proto/security/loopback.js';

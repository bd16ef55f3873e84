/** The certificate identity format is a contract shared with the edge's broker: it lives in proto. */
export * from '../../proto/security/peer-identity.js';

import { describe, expect, it } from 'vitest';
import { makeLink } from './testing/link-fixture.js';
import { CloudLinkConfigError, channelCredentials, isLoopbackHost, parseTarget } from './transport-security.js';

describe('transport security', () => {
  it('allows plaintext only to loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.9.8.7', 'localhost', '::1', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['10.0.0.5', '128.0.0.1', 'brain.example.com', '::', '0.0.0.0', '127.0.0.256']) expect(isLoopbackHost(h), h).toBe(false);
    expect(() => channelCredentials('127.0.0.1:50051', undefined)).not.toThrow();
    expect(() => channelCredentials('[::1]:50051', undefined)).not.toThrow();
  });

  it('refuses a plaintext link to a non-loopback brain with a message that says what to do', () => {
    expect(() => makeLink('10.0.0.5:50051')).toThrow(CloudLinkConfigError);
    expect(() => makeLink('brain.example.com:443')).toThrow(
      'refusing plaintext to the brain at brain.example.com:443: brain.example.com is not a loopback address. ' +
        'Configure tls { ca, cert, key } (plaintext is allowed only to 127.0.0.0/8, ::1 or localhost).',
    );
  });

  it('parses host:port and [v6]:port and names a malformed target', () => {
    expect(parseTarget('[::1]:7')).toEqual({ host: '::1', port: 7 });
    expect(parseTarget('brain:50051')).toEqual({ host: 'brain', port: 50051 });
    expect(() => parseTarget('brain')).toThrow('brain target "brain" is not host:port (IPv6 as [addr]:port)');
    expect(() => parseTarget('brain:70000')).toThrow(CloudLinkConfigError);
  });

  it('refuses an observation rate outside 5..30 Hz', () => {
    expect(() => makeLink('127.0.0.1:1', { observationRateHz: 50 })).toThrow('observationRateHz must be within 5..30, got 50');
  });
});

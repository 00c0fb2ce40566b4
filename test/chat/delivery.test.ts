import { describe, expect, it } from 'vitest';
import { neverDelivered } from '../../src/helpers.js';
import { ConnectionError } from '../../src/index.js';

function withCode(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

describe('neverDelivered', () => {
  it('is true when a cause says the connection never reached the server', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'CERT_HAS_EXPIRED']) {
      const error = new ConnectionError('Could not reach the service', {
        cause: new TypeError('fetch failed', { cause: withCode(code) }),
      });
      expect(neverDelivered(error), code).toBe(true);
    }
  });

  it('is false when the request may have arrived (a reset, a timeout, no code)', () => {
    expect(neverDelivered(new ConnectionError('reset', { cause: withCode('ECONNRESET') }))).toBe(
      false,
    );
    expect(neverDelivered(new ConnectionError('no code'))).toBe(false);
    expect(neverDelivered('ECONNREFUSED')).toBe(false);
    expect(neverDelivered(undefined)).toBe(false);
  });
});

import { ConfigError } from '../errors/errors.js';

/** True for `localhost`, `*.localhost`, `127.0.0.0/8` and `::1`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Throw unless credentials may go to `url`: https, or http to loopback, or explicitly allowed. */
export function assertCredentialsAllowed(url: URL, allowInsecureHttp: boolean): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(url.hostname))) return;
  throw new ConfigError(
    `Refusing to send credentials over plain http to ${url.protocol}//${url.host}. Use https, or pass allowInsecureHttp: true if this network is trusted.`,
  );
}

/** Join a base URL (which may carry a path) and an absolute API path. */
export function joinUrl(baseUrl: string, path: string): URL {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return new URL(path.replace(/^\//, ''), base);
}

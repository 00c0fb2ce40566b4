/**
 * Lazy access to Node built-ins. They are imported only when a Node-only
 * feature is used (client id file, token file, paths, downloads to disk), so the
 * browser build never pulls in `node:fs`.
 *
 * The specifier goes through a variable on purpose: a browser bundler then leaves
 * the import alone instead of failing to resolve `node:fs` for the web.
 */
function load<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

export function nodeFs(): Promise<typeof import('node:fs/promises')> {
  return load('node:fs/promises');
}
export function nodeFsSync(): Promise<typeof import('node:fs')> {
  return load('node:fs');
}
export function nodePath(): Promise<typeof import('node:path')> {
  return load('node:path');
}
export function nodeOs(): Promise<typeof import('node:os')> {
  return load('node:os');
}
export function nodeUrl(): Promise<typeof import('node:url')> {
  return load('node:url');
}
export function nodeHttp(): Promise<typeof import('node:http')> {
  return load('node:http');
}
export function nodeHttps(): Promise<typeof import('node:https')> {
  return load('node:https');
}
export function nodeZlib(): Promise<typeof import('node:zlib')> {
  return load('node:zlib');
}
export function nodeStream(): Promise<typeof import('node:stream')> {
  return load('node:stream');
}

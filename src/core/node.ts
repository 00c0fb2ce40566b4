/**
 * Lazy access to Node built-ins. They are imported only when a Node-only
 * feature is used (client id file, token file, paths, downloads to disk), so the
 * browser build never pulls in `node:fs`.
 *
 * The specifier goes through a variable on purpose: a browser bundler then leaves
 * the import alone instead of failing to resolve `node:fs` for the web.
 */
const loaded = new Map<string, Promise<unknown>>();

/**
 * Each built-in is imported once: a dynamic `import()` is not free (it goes through the
 * module loader, and under a loader hook such as tsx's, across threads), and a batch of
 * exports asks for `node:fs` thousands of times.
 */
function load<T>(specifier: string): Promise<T> {
  let module = loaded.get(specifier);
  if (!module) {
    module = import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
    // A failed import (not on Node) is not kept: the caller reports it, a retry tries again.
    module.catch(() => loaded.delete(specifier));
    loaded.set(specifier, module);
  }
  return module as Promise<T>;
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

/**
 * Node built-ins are imported lazily (src/core/node.ts) and once: a batch asks
 * for `node:fs` thousands of times, and each dynamic import() goes through the
 * module loader (across threads under a loader hook such as tsx's).
 */
import { describe, expect, it } from 'vitest';
import { nodeFs, nodePath } from '../../src/core/node.js';

describe('lazy built-ins', () => {
  it('imports each built-in once and hands out the same module', async () => {
    const first = nodeFs();
    expect(nodeFs()).toBe(first);
    expect(nodePath()).toBe(nodePath());
    expect(nodePath()).not.toBe(first);
    const fs = await first;
    expect(typeof fs.readFile).toBe('function');
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as sdk from '../src/index.js';

describe('package surface', () => {
  it('exports the client and reports the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(typeof sdk.NemoClient).toBe('function');
    expect(sdk.VERSION).toBe(pkg.version);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  repository?: { type?: string; url?: string };
  homepage?: string;
  bugs?: { url?: string };
};

describe('package.json: the way from the npm page to the docs', () => {
  it('names the repository, the homepage and where to report bugs', () => {
    expect(pkg.repository).toEqual({
      type: 'git',
      url: 'git+https://github.com/nemovideo/nemovideo.git',
    });
    expect(pkg.homepage).toBe('https://github.com/nemovideo/nemovideo#readme');
    expect(pkg.bugs).toEqual({ url: 'https://github.com/nemovideo/nemovideo/issues' });
  });
});

/**
 * The package version, read from package.json at build time (the bundler inlines it), so that
 * `nemovideo --version` does not load the SDK to learn it. test/package.test.ts checks that the
 * SDK's `VERSION` is the same.
 *
 * @module
 */
import pkg from '../../package.json' with { type: 'json' };

/** The version of the installed package, e.g. `0.1.0`. */
export const VERSION: string = pkg.version;

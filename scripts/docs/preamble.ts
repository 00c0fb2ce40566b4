/**
 * Names the doc snippets may use without declaring them: a fragment such as
 * `await session.send('…')` is checked as if the reader's program had declared `session`.
 * A snippet gets a declaration only for the names it uses and does not declare itself.
 *
 * Keep it short: a name belongs here when several docs assume it (the client, a session,
 * the emulator), or when it stands for the reader's own application code.
 */
export const PREAMBLE: Readonly<Record<string, string>> = {
  // The SDK objects most snippets start from.
  client: `declare const client: import('nemovideo').NemoClient;`,
  session: `declare const session: import('nemovideo').Session;`,
  sessionId: `declare const sessionId: string;`,
  emulator: `declare const emulator: import('nemovideo/testing').Emulator;`,
  // vitest's expect, for assertion snippets in docs/testing.md.
  expect: `declare const expect: typeof import('vitest').expect;`,
  // Stand-ins for the reader's application.
  myApp: `declare const myApp: { addTitle(title: string): Promise<void> };`,
  vault: `declare const vault: { read(key: string): Promise<string> };`,
  logoBytes: `declare const logoBytes: Uint8Array;`,
  micStream: `declare const micStream: ReadableStream<Uint8Array>;`,
  askForTheFile: `declare function askForTheFile(): Promise<unknown>;`,
  offerExport: `declare function offerExport(): void;`,
};

/** The names a snippet declares at its top level (imports, const/let/var, functions, classes). */
export function declaredNames(code: string): Set<string> {
  const names = new Set<string>();
  for (const m of code.matchAll(/^\s*import\s+(?:type\s+)?([\s\S]*?)\s+from\s+['"]/gm)) {
    const clause = m[1] as string;
    for (const part of clause.replace(/[{}]/g, ',').split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()
        ?.replace(/^\*\s*/, '')
        .trim();
      if (name) names.add(name);
    }
  }
  const binding = /^(?:export\s+)?(?:const|let|var)\s+(\{[^}]*\}|\[[^\]]*\]|[A-Za-z_$][\w$]*)/gm;
  for (const m of code.matchAll(binding)) {
    for (const part of (m[1] as string).replace(/^[{[]|[}\]]$/g, '').split(',')) {
      const name = /[A-Za-z_$][\w$]*/.exec(part.split(':').pop()?.split('=')[0] ?? '')?.[0];
      if (name) names.add(name);
    }
  }
  for (const m of code.matchAll(
    /^(?:export\s+)?(?:async\s+)?(?:function\*?|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm,
  ))
    names.add(m[1] as string);
  return names;
}

/** Where a public name of the package comes from. */
export interface PackageExport {
  /** The module specifier: `nemovideo`, `nemovideo/testing`, … */
  module: string;
  /** A type only (imported with `import type`). */
  type: boolean;
}

const uses = (code: string, name: string) =>
  new RegExp(`(?<![\\w$.'"])${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(code);

/**
 * The preamble lines a snippet needs: an import for each public name of the package it uses
 * without importing it (`new NemoClient({ … })` in a fragment), then a declaration for each
 * {@link PREAMBLE} name it uses and does not declare.
 */
export function preambleFor(
  code: string,
  exports: ReadonlyMap<string, PackageExport> = new Map(),
): string[] {
  const declared = declaredNames(code);
  const imports = new Map<string, { values: string[]; types: string[] }>();
  for (const [name, from] of exports) {
    if (declared.has(name) || !uses(code, name)) continue;
    const entry = imports.get(from.module) ?? { values: [], types: [] };
    (from.type ? entry.types : entry.values).push(name);
    imports.set(from.module, entry);
  }
  const lines: string[] = [];
  for (const [module, { values, types }] of imports) {
    const names = [...values, ...types.map((t) => `type ${t}`)];
    lines.push(`import { ${names.join(', ')} } from '${module}';`);
  }
  for (const [name, declaration] of Object.entries(PREAMBLE))
    if (!declared.has(name) && !exports.has(name) && uses(code, name)) lines.push(declaration);
  return lines;
}

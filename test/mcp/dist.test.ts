/**
 * The built package: `dist/cli/bin.js mcp` serves the tools, the MCP server package is
 * bundled into one chunk that only the mcp command loads (dynamic import), and nothing of it
 * reaches the SDK's entry points or its dependencies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DIST_BIN, ROOT, serveEmulator, startMcp, tempDir } from './helpers.js';

const DIST = join(ROOT, 'dist');
const built = existsSync(DIST_BIN);

/** Every file `entry` loads through static imports (relative ones), itself included. */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/^(?:import|export)\s[^;]*?from\s*["'](\.[^"']+)["']/gm))
      visit(resolve(dirname(file), m[1]!));
    for (const m of code.matchAll(/^import\s*["'](\.[^"']+)["']/gm))
      visit(resolve(dirname(file), m[1]!));
    for (const m of code.matchAll(/require\(["'](\.[^"']+)["']\)/g))
      visit(resolve(dirname(file), m[1]!));
  };
  visit(entry);
  return seen;
}

/** The server class as esbuild writes it. */
const MCP_SERVER_CLASS = /\bMcpServer = class\b|\bclass McpServer\b/;

/** True when the MCP server package's code is in `file`. */
function hasMcpServer(file: string): boolean {
  const code = readFileSync(file, 'utf8');
  return MCP_SERVER_CLASS.test(code) || code.includes('@modelcontextprotocol');
}

describe.skipIf(!built)('the built package (dist)', () => {
  test('dist/cli/bin.js mcp serves the tools', async () => {
    const served = await serveEmulator();
    const dir = tempDir();
    const mcp = await startMcp({ apiUrl: served.url, cwd: dir.path, bin: 'dist' });
    try {
      const { tools } = await mcp.client.listTools();
      expect(tools).toHaveLength(7);
      const created = await mcp.client.callTool({ name: 'create_session', arguments: {} });
      expect(created.isError).toBeFalsy();
      expect((created.structuredContent as { session_id: string }).session_id).toMatch(/^\d+$/);
    } finally {
      await mcp.close();
      await served.close();
      dir.cleanup();
    }
  });

  test('the MCP server is bundled into one chunk that the CLI loads lazily', () => {
    // (dist may hold stale chunks of earlier builds: follow the bin's imports.)
    const bin = staticGraph(DIST_BIN);
    // Everything the CLI may load later through import(), at any depth (program, command).
    const lazy = new Set<string>();
    const queue = [...bin];
    while (queue.length > 0) {
      const file = queue.shift()!;
      const code = readFileSync(file, 'utf8');
      for (const m of code.matchAll(/import\(\s*["'](\.[^"']+)["']\s*\)/g)) {
        for (const reached of staticGraph(resolve(dirname(file), m[1]!))) {
          if (bin.has(reached) || lazy.has(reached)) continue;
          lazy.add(reached);
          queue.push(reached);
        }
      }
    }
    const holders = [...lazy].filter((file) => hasMcpServer(file));
    expect(holders).toHaveLength(1);
    const chunk = holders[0]!;
    // Not loaded with the CLI itself, only by the dynamic import of the mcp command.
    for (const file of bin) expect(hasMcpServer(file), file).toBe(false);
    // Bundled, not imported: the installed package does not need @modelcontextprotocol/*.
    for (const file of staticGraph(chunk))
      expect(readFileSync(file, 'utf8')).not.toMatch(/from\s*["']@modelcontextprotocol\//);
    expect(readFileSync(chunk, 'utf8')).toMatch(MCP_SERVER_CLASS);
  });

  test('the SDK entry points never load it', () => {
    for (const entry of ['index.js', 'index.cjs', 'testing/index.js', 'testing/index.cjs']) {
      for (const file of staticGraph(join(DIST, entry))) {
        expect(hasMcpServer(file), `${entry} → ${file}`).toBe(false);
        // Nor lazily: no import() of a file of ours that holds it.
        const code = readFileSync(file, 'utf8');
        for (const m of code.matchAll(/import\(\s*["'](\.[^"']+)["']\s*\)/g))
          expect(hasMcpServer(resolve(dirname(file), m[1]!)), `${file} → ${m[1]}`).toBe(false);
      }
    }
  });

  test('the package does not depend on the MCP packages', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'])
      expect(
        Object.keys(pkg[field] ?? {}).filter((n) => n.startsWith('@modelcontextprotocol/')),
      ).toEqual([]);
    expect(pkg.devDependencies?.['@modelcontextprotocol/server']).toMatch(/^\^2\./);
  });
});

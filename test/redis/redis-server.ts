/**
 * A real `redis-server` (Debian's package; `.ci/run` installs it) on a free
 * loopback port, for the tests that need one: started by the test, stopped
 * after, nothing written to disk.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** True when `redis-server` is on PATH. */
export const redisAvailable =
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Skip the Redis tests only on a developer machine without redis-server; in CI
 * (CI=true) a missing redis-server fails them (`.ci/run` must install it).
 */
export const skipWithoutRedis = !redisAvailable && !process.env.CI;
if (skipWithoutRedis) {
  console.warn(
    'redis-server is not installed: skipping the Redis tests (apt-get install redis-server)',
  );
}

/** A port that was free a moment ago (the server binds it right after; a clash is retried). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export interface RedisServer {
  url: string;
  port: number;
  /** Kill the server (SIGKILL after 5 s) and wait for it to exit. */
  stop(): Promise<void>;
}

function startOnce(port: number): Promise<RedisServer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'yes',
        '--loglevel',
        'notice',
        '--always-show-logo',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (/Ready to accept connections/i.test(output)) {
        child.stdout?.off('data', onData);
        resolve({
          url: `redis://127.0.0.1:${port}`,
          port,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
              child.once('exit', () => {
                clearTimeout(force);
                done();
              });
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
  });
}

/** Start redis-server on a free port (a few tries, should another process take the port first). */
export async function startRedis(): Promise<RedisServer> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startOnce(await freePort());
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

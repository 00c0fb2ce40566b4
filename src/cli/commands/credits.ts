import type { Command } from 'commander';
import type { Runtime, RuntimeFactory } from '../runtime.js';

async function credits(rt: Runtime): Promise<void> {
  const { out, signal } = rt;
  const client = rt.client();
  const balance = await client.credits.balance({ signal });
  if (out.json) {
    out.emit({ ...balance, tokenSource: client.tokenSource });
    return;
  }
  const reserved = balance.frozen > 0 ? ` (${balance.frozen} reserved by work in progress)` : '';
  out.result(`${balance.available} credits available${reserved}, ${balance.total} in total`);
  if (balance.available <= 0) {
    const grant = client.anonymousGrant;
    const hint = grant?.userId
      ? `register at ${client.backend.registerUrl(grant.userId, client.backend.webUrl)}`
      : 'top up at https://nemovideo.com';
    out.warn(
      `You are out of credits: ${hint}, or pass a token with credits (--token / NEMO_TOKEN).`,
    );
  }
}

/** Registers `nemovideo credits`. */
export function registerCredits(program: Command, runtime: RuntimeFactory): void {
  program
    .command('credits')
    .description('show the credit balance (editing costs about 50 a session; export is free)')
    .action(async (_flags: unknown, cmd: Command) => {
      await credits(runtime(cmd));
    });
}

import type { Runtime } from '../runtime.js';
import type { CommandRun } from '../spec.js';

async function credits(rt: Runtime): Promise<void> {
  const { out, signal } = rt;
  const client = await rt.client();
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

/** `nemovideo credits`. */
export const run: CommandRun = (rt) => credits(rt);

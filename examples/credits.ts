/**
 * Read the credit balance, and what an anonymous token comes with.
 *
 *   NEMO_API_URL=http://127.0.0.1:4010 npx tsx examples/credits.ts
 */
import { homedir } from 'node:os';
import { NemoClient } from 'nemovideo';
import { FileTokenStore } from 'nemovideo/helpers';

const client = new NemoClient({
  // Keep the free anonymous token between runs: the service grants one per client id at a time.
  tokenStore: new FileTokenStore(`${homedir()}/.config/nemovideo/examples-token.json`),
});
const { available, frozen, total } = await client.credits.balance();
console.log(
  `${available} credits available, ${frozen} reserved by work in progress, ${total} in total`,
);

if (client.tokenSource === 'anonymous') {
  const grant = client.anonymousGrant;
  const until = grant?.expiresAt?.toISOString() ?? 'unknown';
  console.log(
    `anonymous user ${grant?.userId ?? '?'} (${grant?.credits ?? '?'} credits granted), token valid until ${until}`,
  );
  // Editing costs about 50 credits a session and generation about 100 a clip; export is free.
}

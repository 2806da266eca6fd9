// Drives a running Callwright (`npm start` in another terminal) through its public HTTP API only:
// Twilio-signed voice calls with turns from the signed event feed, a callback that resumes a dropped call,
// a drop nobody calls back, chats that survive a drop, busy and no-answer calls. Then reads every call back,
// and shows two accounts side by side, each key seeing its own account's calls only.
//   npm run demo            (API_URL, ADMIN_API_KEY, WEBHOOK_SECRET, TWILIO_AUTH_TOKEN, TEMPORAL_UI_URL override)
import { randomBytes } from 'node:crypto';
import { twoAccounts } from './demo/accounts.js';
import { checkApi, DemoError, settings, waitFor } from './demo/client.js';
import { mask, printLinks, printTable, short, time, workflowUrl, type Row } from './demo/report.js';
import { chat, meets, problems, unanswered, voiceCalledBack, voiceDropped, type Scenario } from './demo/scenarios.js';

async function main(): Promise<number> {
  const run = randomBytes(3).toString('hex');
  const ready = await checkApi();
  console.log(`Callwright demo, run ${run}, against ${settings.api} (ready: ${ready})`);

  const scenarios: Scenario[] = [];
  scenarios.push(await voiceCalledBack());
  scenarios.push(await voiceDropped());
  scenarios.push(await chat(run, 'Ada', true));
  scenarios.push(await chat(run, 'Linus', false));
  scenarios.push(await unanswered('busy'));
  scenarios.push(await unanswered('no-answer'));

  // Webhooks are answered before the workflow applies them: read back until each call settles.
  console.log('\nReading every call back with GET /v1/calls/{callId} …');
  const rows: Row[] = await Promise.all(
    scenarios.map(async (scenario) => {
      const { call, reached } = await waitFor(scenario.callId, (c) => meets(c, scenario.expected));
      return { scenario, call, ok: reached };
    }),
  );
  printTable(rows);

  for (const { call } of rows.filter((r) => r.call?.status === 'dropped')) {
    console.log(`\n${short(call!.callId)} from ${mask(call!.from)} stays dropped: nobody calls back.`);
    console.log(
      `Its resume window closes at ${time(call!.resumeDeadline)} [${call!.resumeDeadline}]; then its durable timer ends it as ended/abandoned.`,
    );
  }
  const link = (label: string, i: number): [string, string][] => (rows[i]?.call ? [[label, workflowUrl(rows[i].call)]] : []);
  printLinks([...link('The called-back voice call', 0), ...link('The dropped voice call', 1), ...link('A chat that survived a drop', 2)]);

  await twoAccounts(run);

  for (const p of problems) console.log(`✗ ${p}`);
  const failed = rows.filter((r) => !r.ok).length + problems.length;
  if (failed) console.log(`\n${failed} check(s) failed: the calls did not end up as the demo expects.`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof DemoError ? `\ndemo: ${err.message}` : err);
    process.exit(1);
  },
);

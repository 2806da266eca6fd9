// Two customers on one Callwright: each account gets an operator key, its caller chats, and each key's
// list shows that account's calls only; the other account's call answers 404.
import { request, type CallView } from './client.js';
import { mask } from './report.js';
import { phoneNumber, problems } from './scenarios.js';

interface Customer {
  accountId: string;
  key: string;
  callId: string;
}

async function customer(run: string, name: string, caller: string): Promise<Customer> {
  const accountId = `demo-${run}-${name.toLowerCase()}`;
  await request('POST', '/v1/accounts', { json: { accountId, name, limits: { concurrentCalls: 5 } }, expect: [201] });
  const { key } = await request<{ key: string }>('POST', `/v1/accounts/${accountId}/keys`, {
    json: { name: `${name} operators`, role: 'operator' },
    expect: [201],
  });
  // The account's own key mints its caller's chat token: the call is the account's.
  const { token } = await request<{ token: string }>('POST', '/v1/auth/tokens', { token: key, json: { subject: caller }, expect: [201] });
  const call = await request<CallView>('POST', '/v1/calls', { token, json: { channel: 'chat' }, expect: [201] });
  await request('POST', `/v1/calls/${call.callId}/messages`, { token, json: { text: `Hello from a customer of ${name}` } });
  return { accountId, key, callId: call.callId };
}

export async function twoAccounts(run: string): Promise<void> {
  const caller = phoneNumber();
  console.log(`\n▸ Two accounts, the same caller ${mask(caller)} in each`);
  const customers = [await customer(run, 'Acme', caller), await customer(run, 'Globex', caller)];
  for (const [me, other] of [customers, [...customers].reverse()] as [Customer, Customer][]) {
    const { calls } = await request<{ calls: CallView[] }>('GET', '/v1/calls', { token: me.key });
    console.log(`  ${me.accountId.padEnd(22)} its key lists ${calls.length} call(s): ${calls.map((c) => c.callId).join(', ')}`);
    if (calls.length !== 1 || calls[0]!.callId !== me.callId)
      problems.push(`${me.accountId}: its key listed ${calls.length} calls, not only its own`);
    // Anything but a 404 stops the demo: one account read another's call.
    await request('GET', `/v1/calls/${other.callId}`, { token: me.key, expect: [404] });
    console.log(`  ${' '.repeat(22)} and gets 404 for ${other.accountId}'s call`);
  }
  console.log('  the platform key (ADMIN_API_KEY) sees both; filter by customer in the Temporal UI with AccountId');
}

// A harness for hosted Twilio calls that act on the call through Twilio's REST API (transfers, recordings):
// the worker and the API both talk to a stand-in, and each agent answers a number of its own.
import { randomInt, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { loadConfig, twilioCallSettings } from '../../config/env.js';
import { createHarness, PUBLIC_BASE_URL, TWILIO_TOKEN, type Harness } from './harness.js';
import { resources, startTwilioApi, type TwilioApi } from './twilio-api.js';

export const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;

export async function hostedHarness(): Promise<{ h: Harness; twilio: TwilioApi }> {
  const twilio = await startTwilioApi();
  twilio.answer(resources());
  const env = { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, PUBLIC_BASE_URL, TWILIO_API_URL: twilio.url };
  // As the configuration builds them, with a short timeout: a stand-in that hangs fails fast.
  const h = await createHarness({ twilio: { ...twilioCallSettings(loadConfig(env))!, timeoutMs: 1000 } });
  return { h, twilio };
}

export const newNumber = () => `+1557${randomInt(1_000_000, 10_000_000)}`;

/** Creates an agent with `fields` and gives it a number of its own: calls to that number are its calls. */
export async function agentNumber(h: Harness, fields: Record<string, unknown>): Promise<string> {
  const agentId = `agent-${randomUUID()}`;
  expect((await h.request('POST', '/agents', { agentId, name: 'Desk', ...fields })).status).toBe(201);
  const number = newNumber();
  expect((await h.request('PUT', `/numbers/${encodeURIComponent(number)}`, { agentId })).status).toBe(201);
  return number;
}

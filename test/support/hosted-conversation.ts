// What a hosted voice call holds after the conversation every provider's test plays: a greeting, two
// turns, a hang-up, a redial welcomed back by name, "what is my name?" and a goodbye.
import { expect } from 'vitest';
import { turnRows } from './assertions.js';
import { eventually, type Harness } from './harness.js';

export async function expectResumedConversation(h: Harness, callId: string, legs: string[]): Promise<void> {
  await eventually(async () => {
    const [row] = await h.rows('SELECT status, disposition, legs, resume_count, turn_count FROM calls WHERE call_id = $1', [callId]);
    expect(row).toEqual({ status: 'ended', disposition: 'completed', legs, resume_count: 1, turn_count: 10 });
  });
  expect((await turnRows(h, callId)).map((t) => `${t.role}: ${t.text}`)).toEqual([
    'assistant: Hello! How can I help you today?',
    'user: my name is Ada',
    'assistant: Nice to meet you, Ada. How can I help you today?',
    'user: I need help with my order',
    expect.stringMatching(/^assistant: I understand/),
    expect.stringMatching(/^assistant: Welcome back, Ada\./),
    'user: what is my name?',
    'assistant: Your name is Ada.',
    'user: thanks, bye',
    'assistant: Goodbye, Ada! Thanks for calling.',
  ]);
}

// An OpenAI-compatible chat-completions responder. Failures throw: the activity's retry policy decides.
import { ApplicationFailure } from '@temporalio/activity';
import { streamedContent } from './openai-stream.js';
import { scriptedResponder } from './scripted.js';
import type { Responder } from './types.js';

export interface OpenAiSettings {
  url: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
}

const SYSTEM_DEFAULT = 'You are a helpful phone and chat assistant. Answer briefly.';
const FACTS = 'Facts known about the caller: ';
/** A reply that contains this marker ends the conversation; the marker itself is never spoken. */
export const END_MARKER = '[[end_call]]';
const ENDING = `When the caller has nothing more to discuss, say goodbye and put ${END_MARKER} at the end of your reply.`;

export function openAiResponder({ url, apiKey, model, timeoutMs }: OpenAiSettings): Responder {
  const endpoint = `${url.replace(/\/+$/, '')}/chat/completions`;
  return async (input, tokens) => {
    // The scripted assistant still extracts facts (the caller's name) into the call's context.
    const { context } = await scriptedResponder(input);
    const { agent } = input;
    const messages = [
      { role: 'system', content: `${agent?.prompt ?? SYSTEM_DEFAULT}\n${ENDING}\n${FACTS}${JSON.stringify(context)}` },
      ...input.history.map((t) => ({ role: t.role, content: t.text })),
    ];
    if (input.history.at(-1)?.text !== input.text) messages.push({ role: 'user', content: input.text });
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      body: JSON.stringify({
        model: agent?.model ?? model,
        messages,
        ...(agent?.temperature !== undefined ? { temperature: agent.temperature } : {}),
        ...(agent?.maxTokens !== undefined ? { max_tokens: agent.maxTokens } : {}),
        // Someone is listening for the reply as it comes (a ConversationRelay call): the server streams it.
        ...(tokens ? { stream: true } : {}),
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      const body = (await res.text()).slice(0, 300);
      // 4xx other than rate limits will not get better by retrying.
      const retryable = res.status === 429 || res.status >= 500;
      throw ApplicationFailure.create({
        type: retryable ? 'ResponderUnavailable' : 'ResponderRejected',
        message: `responder answered ${res.status}: ${body}`,
        nonRetryable: !retryable,
      });
    }
    // A server that does not stream answers one JSON body even when asked to.
    const streamed = tokens && res.body && res.headers.get('content-type')?.includes('text/event-stream');
    const content = streamed ? await streamedContent(res.body!, tokens, END_MARKER) : await replyOf(res);
    const concluded = content.includes(END_MARKER);
    const text = content.replaceAll(END_MARKER, '').trim();
    if (!text) throw ApplicationFailure.create({ type: 'ResponderUnavailable', message: 'responder returned no content' });
    return { text, context, ...(concluded ? { concluded } : {}) };
  };
}

async function replyOf(res: Response): Promise<string> {
  const json = (await res.json()) as { choices?: { message?: { content?: string } }[] };
  return json.choices?.[0]?.message?.content ?? '';
}

// A streamed chat completion read as the responder reads it: tokens as they come, the end-of-call marker
// never spoken even when it arrives in pieces, and the whole text returned.
import { describe, expect, it } from 'vitest';
import { streamedContent } from '../activities/responder/openai-stream.js';
import { END_MARKER } from '../activities/responder/openai.js';

/** An SSE body whose network reads split where `reads` says, regardless of line ends. */
function body(reads: string[]): ReadableStream<Uint8Array> {
  const bytes = reads.map((r) => new TextEncoder().encode(r));
  return new ReadableStream({
    pull(controller) {
      const next = bytes.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}
const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`;

describe('streamed completions', () => {
  it('hands each delta on as it comes and returns the whole text', async () => {
    const tokens: string[] = [];
    const sse = [': keep-alive\n\n', chunk('  Hello'), chunk(' there'), 'data: [DONE]\n\n'].join('');
    // Reads that cut a line in two are put back together.
    const text = await streamedContent(body([sse.slice(0, 25), sse.slice(25, 60), sse.slice(60)]), (t) => tokens.push(t), END_MARKER);
    expect(text).toBe('  Hello there');
    expect(tokens).toEqual(['Hello', ' there']);
  });

  it('holds back what may be the start of the end marker, and never speaks the marker', async () => {
    const tokens: string[] = [];
    const sse = [chunk('Goodbye! [['), chunk('end_'), chunk('call]]'), chunk(' [x]'), 'data: [DONE]\n\n'].join('');
    const text = await streamedContent(body([sse]), (t) => tokens.push(t), END_MARKER);
    expect(text).toBe(`Goodbye! ${END_MARKER} [x]`);
    expect(tokens.join('')).toBe('Goodbye!  [x]');
    expect(tokens[0]).toBe('Goodbye! ');
  });

  it('an error in the stream fails the reply (the activity retries)', async () => {
    const sse = `${chunk('Hi')}data: {"error":{"message":"overloaded"}}\n\n`;
    await expect(streamedContent(body([sse]), () => undefined, END_MARKER)).rejects.toThrow('overloaded');
  });
});

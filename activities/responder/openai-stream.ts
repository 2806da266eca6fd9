// A streamed chat completion (server-sent events: `data: {choices:[{delta:{content}}]}` lines, then
// `data: [DONE]`): each piece of text goes to the sink as it comes, and the whole text is returned.
import { ApplicationFailure } from '@temporalio/activity';
import type { TokenSink } from './types.js';

interface Chunk {
  choices?: { delta?: { content?: string | null } }[];
  error?: { message?: string };
}

/** Reads the stream to its end; `hidden` (the end-of-call marker) never reaches the sink, even split across chunks. */
export async function streamedContent(body: ReadableStream<Uint8Array>, tokens: TokenSink, hidden: string): Promise<string> {
  const spoken = new Spoken(tokens, hidden);
  const decoder = new TextDecoder();
  let buffered = '';
  let content = '';
  for await (const bytes of body) {
    buffered += decoder.decode(bytes, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const data = /^data:\s?(.*)$/.exec(line.trimEnd())?.[1];
      // Comments (": keep-alive"), event names and blank separators carry no text.
      if (data === undefined || data === '[DONE]') continue;
      const delta = parseChunk(data);
      content += delta;
      spoken.add(delta);
    }
  }
  return content;
}

function parseChunk(data: string): string {
  let chunk: Chunk;
  try {
    chunk = JSON.parse(data) as Chunk;
  } catch {
    return ''; // a line the server did not mean as a chunk: the reply is whatever parses
  }
  if (chunk.error) throw ApplicationFailure.create({ type: 'ResponderUnavailable', message: `responder stream: ${chunk.error.message}` });
  return chunk.choices?.[0]?.delta?.content ?? '';
}

/** Passes text on as soon as it cannot be the start of `hidden`; leading whitespace is dropped, as the reply is trimmed. */
class Spoken {
  private pending = '';
  private started = false;

  constructor(
    private readonly sink: TokenSink,
    private readonly hidden: string,
  ) {}

  add(delta: string): void {
    this.pending = (this.pending + delta).replaceAll(this.hidden, '');
    if (!this.started) this.pending = this.pending.trimStart();
    let keep = Math.min(this.hidden.length - 1, this.pending.length);
    while (keep > 0 && !this.hidden.startsWith(this.pending.slice(-keep))) keep--;
    const out = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(out.length);
    if (!out) return;
    this.started = true;
    this.sink(out);
  }
}

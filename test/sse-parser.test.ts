// The chat page's text/event-stream reader (web/chat/sse.ts) on what servers may send: any line ending,
// events split across chunks anywhere, comments, multi-line data, an id carried forward.
import { describe, expect, it } from 'vitest';
import { readEvents } from '../web/chat/sse.js';

async function parse(chunks: string[]) {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  const events = [];
  for await (const event of readEvents(body)) events.push(event);
  return events;
}

describe('readEvents', () => {
  const text = 'event: turn\r\ndata: {"seq":1}\r\nid: 1\r\n\r\n: heartbeat\n\nevent: call\rdata: a\rdata: b\r\rdata:c\n\ndata: unfinished';
  const expected = [
    { event: 'turn', data: '{"seq":1}', id: '1' },
    { event: 'call', data: 'a\nb', id: '1' },
    { event: 'message', data: 'c', id: '1' },
  ];

  it('reads fields, comments and every line ending, and drops an event without its blank line', async () => {
    expect(await parse([text])).toEqual(expected);
  });

  it('gives the same events however the bytes are split, a CRLF or a multi-byte character included', async () => {
    for (let at = 1; at < text.length; at++) expect(await parse([text.slice(0, at), text.slice(at)]), `split at ${at}`).toEqual(expected);
    expect(await parse([...text])).toEqual(expected);
    const bytes = new TextEncoder().encode('data: Ada ✓\n\n');
    const split = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    const events = [];
    for await (const event of readEvents(split)) events.push(event);
    expect(events).toEqual([{ event: 'message', data: 'Ada ✓', id: '' }]);
  });
});

// A text/event-stream reader for fetch bodies: EventSource cannot send an Authorization header. It follows
// the WHATWG parsing rules (fields, comments, CR/LF/CRLF line ends, the last event id carried forward) and
// needs nothing but TextDecoder, so the page and the tests read streams with the same code.

export interface SseEvent {
  /** `message` when the event names no type. */
  event: string;
  data: string;
  /** The last event id seen so far (it carries over to events that set none). */
  id: string;
}

/** Yields each event as its blank line arrives; returns when the stream ends. Leaving the loop early cancels the body. */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id = '';
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (;;) {
        const end = buffer.search(/[\r\n]/);
        // A CR at the end of what arrived may be the first half of a CRLF: wait for the next chunk.
        if (end < 0 || (end === buffer.length - 1 && buffer[end] === '\r' && !done)) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(buffer.startsWith('\r\n', end) ? end + 2 : end + 1);
        if (line === '') {
          if (data.length) yield { event: event || 'message', data: data.join('\n'), id };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue; // a comment: heartbeats
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\0')) id = value;
      }
      if (done) {
        finished = true;
        return; // an event without its blank line is not dispatched
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

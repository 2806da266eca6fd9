// A node:http stand-in for Twilio's REST API (Calls, a call's Recordings, Recordings): records every request
// and answers as the test says.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallsRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  form: URLSearchParams;
  /** The body as sent (a JSON request, e.g. an end-of-call report posted here). */
  raw: string;
}
/** The answer to the n-th request (from 0): a status and a JSON body, or null to hang until the client gives up. */
export type CallsReply = (request: CallsRequest, n: number) => { status: number; body: unknown } | null;

export const newCallSid = () => `CA${randomUUID().replace(/-/g, '')}`;

/** What Twilio answers when it accepts a call (the fields that matter here). */
export const accepted = (sid = newCallSid()) => ({
  status: 201,
  body: { sid, status: 'queued', direction: 'outbound-api', api_version: '2010-04-01' },
});

export const newRecordingSid = () => `RE${randomUUID().replace(/-/g, '')}`;

/** What Twilio answers by resource: a placed call, a call updated, a recording started (`recordingSid`), a recording deleted. */
export const resources =
  (recordingSid = newRecordingSid()): CallsReply =>
  ({ method, path }) => {
    if (method === 'DELETE' && /\/Recordings\/RE\w+\.json$/.test(path)) return { status: 204, body: null };
    if (/\/Calls\/CA\w+\/Recordings\.json$/.test(path)) return { status: 201, body: { sid: recordingSid, status: 'in-progress' } };
    if (/\/Calls\/CA\w+\.json$/.test(path)) return { status: 200, body: { sid: path.match(/CA\w+/)![0], status: 'in-progress' } };
    return accepted();
  };

export async function startTwilioApi() {
  const requests: CallsRequest[] = [];
  let reply: CallsReply = () => accepted();
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const request = {
      method: req.method!,
      path: req.url!,
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      form: new URLSearchParams(body),
      raw: body,
    };
    const answer = reply(request, requests.push(request) - 1);
    if (answer) res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    /** How the next requests are answered; forgets the earlier ones. */
    answer(next: CallsReply) {
      reply = next;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type TwilioApi = Awaited<ReturnType<typeof startTwilioApi>>;

// The load generator's HTTP client: node:http over kept-alive sockets. The raw baselines drive Temporal
// through the Rust client, and on two shared cores the generator's CPU is taken from the system under
// test: `fetch` spent 0.7-0.9 ms of CPU per request where this spends 0.2 (docs/performance.md).
import http from 'node:http';

export interface Reply {
  status: number;
  text: string;
}

export function httpClient(baseUrl: string) {
  const base = new URL(baseUrl);
  // An idle socket is dropped after 4 s, before the server's 5 s keep-alive timeout closes it under a
  // request just sent on it ("socket hang up" when a baseline phase kept the product's sockets idle).
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, timeout: 4_000 });
  return {
    request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
      return new Promise((resolve, reject) => {
        const sized = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
        const req = http.request({ host: base.hostname, port: base.port, path, method, headers: sized, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

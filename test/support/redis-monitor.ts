// Redis MONITOR over a plain socket. ioredis marks its monitor connection as monitoring only after
// MONITOR's reply has resolved a promise, so lines that arrive in the same read as that reply (a busy
// shared server in a parallel test run) hit an empty command queue and throw "Command queue state error".
import { connect } from 'node:net';

export interface RedisMonitor {
  /** Commands (lowercased names) whose arguments include `key`, in the order Redis ran them. */
  commandsOn(key: string): string[];
  stop(): Promise<void>;
}

/** Resolves once Redis has answered MONITOR, so every command after that is seen. */
export function monitorRedis(url: string): Promise<RedisMonitor> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port || 6379) });
  const lines: string[] = [];
  let buffered = '';
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.on('connect', () => socket.write('MONITOR\r\n'));
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\r\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        if (line === '+OK')
          resolve({
            commandsOn: (key) => lines.filter((l) => l.includes(`"${key}"`)).map((l) => /\] "([^"]+)"/.exec(l)?.[1]?.toLowerCase() ?? l),
            stop: () => new Promise((done) => socket.end(done)),
          });
        else if (line.startsWith('-') && !lines.length) reject(new Error(`MONITOR refused: ${line}`));
        else lines.push(line);
      }
    });
  });
}

// Compares what the clients were told with what PostgreSQL holds, conversation by conversation.
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type pg from 'pg';
import { workflowIdFor } from '../../workflows/messages.js';
import { summarize } from '../stats.js';
import type { Conversation } from './client.js';

const { TimeoutType } = proto.temporal.api.enums.v1;

export interface Figures {
  conversations: number;
  /** Conversations whose call could not be started. */
  setupFailed: number;
  sent: number;
  accepted: number;
  /** Accepted, yet its turn (or a chat message's reply) is not in PostgreSQL. */
  lost: number;
  /** Extra copies of a message's turn. */
  doubled: number;
  /** Sequence numbers missing in 1..max(seq, turn_count), summed over the calls. */
  gaps: number;
  /** Turns stored out of the order the client sent them in. */
  misordered: number;
  /** A chat reply whose seq or text differs from the stored assistant turn. */
  replyMismatch: number;
  /** Turns no client sent (neither a message nor a chat reply). */
  foreign: number;
  /** Never accepted (refused or given up on) but stored anyway: harmless, counted to explain. */
  storedUnaccepted: number;
  latencyMs: Record<'all' | 'chat' | 'voice', { n: number; p50: number; p99: number; max: number } | null>;
  /** Up to 20 concrete findings, for the report. */
  examples: string[];
}

interface TurnRow {
  call_id: string;
  seq: number;
  role: string;
  text: string;
}

/** Waits until PostgreSQL holds at least the turns the clients were told were accepted (voice turns persist after their 202). */
export async function settle(pool: pg.Pool, conversations: Conversation[], timeoutMs: number): Promise<boolean> {
  const ids = conversations.map((c) => c.callId);
  const expected = conversations.reduce((n, c) => n + c.messages.filter((m) => m.acceptedAt).length * (c.channel === 'chat' ? 2 : 1), 0);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM turns WHERE call_id = ANY($1)', [ids]).then(
      (r) => r.rows[0]!.n,
      () => -1,
    );
    if (n >= expected) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function verify(pool: pg.Pool, conversations: Conversation[]): Promise<Figures> {
  const ids = conversations.map((c) => c.callId);
  const { rows: turns } = await pool.query<TurnRow>(
    'SELECT call_id, seq, role, text FROM turns WHERE call_id = ANY($1) ORDER BY call_id, seq',
    [ids],
  );
  const { rows: calls } = await pool.query<{ call_id: string; turn_count: number }>(
    'SELECT call_id, turn_count FROM calls WHERE call_id = ANY($1)',
    [ids],
  );
  const byCall = new Map<string, TurnRow[]>();
  for (const t of turns) byCall.set(t.call_id, [...(byCall.get(t.call_id) ?? []), t]);
  const turnCount = new Map(calls.map((c) => [c.call_id, c.turn_count]));

  const f: Figures = {
    conversations: conversations.length,
    setupFailed: 0,
    sent: 0,
    accepted: 0,
    lost: 0,
    doubled: 0,
    gaps: 0,
    misordered: 0,
    replyMismatch: 0,
    foreign: 0,
    storedUnaccepted: 0,
    latencyMs: { all: null, chat: null, voice: null },
    examples: [],
  };
  const example = (line: string) => f.examples.length < 20 && f.examples.push(line);
  const latency = { chat: [] as number[], voice: [] as number[] };

  for (const conv of conversations) {
    if (conv.setupFailed) {
      f.setupFailed++;
      example(`${conv.callId}: not started: ${conv.setupFailed}`);
    }
    const rows = byCall.get(conv.callId) ?? [];
    // Chat messages are the user's turns; a voice call's turns are all the pipeline's.
    const own = conv.channel === 'chat' ? rows.filter((r) => r.role === 'user') : rows;
    const seqsOf = new Map<string, number[]>();
    for (const r of own) seqsOf.set(r.text, [...(seqsOf.get(r.text) ?? []), r.seq]);
    const bySeq = new Map(rows.map((r) => [r.seq, r]));
    const known = new Set(conv.messages.map((m) => m.text));
    let lastSeq = 0;
    for (const m of conv.messages) {
      f.sent++;
      const seqs = seqsOf.get(m.text) ?? [];
      if (m.acceptedAt) {
        f.accepted++;
        latency[conv.channel].push(m.acceptedAt - m.sentAt);
      } else if (seqs.length) {
        f.storedUnaccepted++;
      }
      if (m.refused) example(`${m.key}: not accepted: ${m.refused}`);
      if (seqs.length > 1) {
        f.doubled += seqs.length - 1;
        example(`${m.key}: stored ${seqs.length} times, seq ${seqs.join(', ')}`);
      }
      if (!seqs.length) {
        if (m.acceptedAt) {
          f.lost++;
          example(`${m.key}: accepted at +${m.acceptedAt - m.sentAt} ms, no turn in PostgreSQL`);
        }
        continue;
      }
      const seq = seqs[0]!;
      if (seq < lastSeq) {
        f.misordered++;
        example(`${m.key}: stored at seq ${seq}, after seq ${lastSeq} of an earlier message`);
      }
      lastSeq = Math.max(lastSeq, seq);
      if (conv.channel === 'chat' && m.acceptedAt) {
        const reply = bySeq.get(seq + 1);
        if (!reply || reply.role !== 'assistant') {
          f.lost++;
          example(`${m.key}: user turn at seq ${seq} has no reply after it in PostgreSQL`);
        } else if (m.reply && (m.reply.seq !== reply.seq || m.reply.text !== reply.text)) {
          f.replyMismatch++;
          example(`${m.key}: client got reply seq ${m.reply.seq} "${m.reply.text}", PostgreSQL has seq ${reply.seq} "${reply.text}"`);
        }
        lastSeq = Math.max(lastSeq, seq + 1);
      }
    }
    for (const r of rows) {
      const isReply = conv.channel === 'chat' && r.role === 'assistant';
      if (!isReply && !known.has(r.text)) {
        f.foreign++;
        example(`${conv.callId}: seq ${r.seq} (${r.role}) "${r.text.slice(0, 80)}" was sent by no client`);
      }
    }
    const distinct = new Set(rows.map((r) => r.seq));
    const top = Math.max(0, ...distinct, turnCount.get(conv.callId) ?? 0);
    const missing = top - distinct.size;
    if (missing > 0) {
      f.gaps += missing;
      const holes = Array.from({ length: top }, (_, i) => i + 1).filter((s) => !distinct.has(s));
      example(`${conv.callId}: turn_count ${turnCount.get(conv.callId)}, seq missing: ${holes.slice(0, 10).join(', ')}`);
    }
  }
  const stat = (xs: number[]) => {
    if (!xs.length) return null;
    const { n, p50, p99, max } = summarize(xs);
    return { n, p50, p99, max };
  };
  f.latencyMs = { all: stat([...latency.chat, ...latency.voice]), chat: stat(latency.chat), voice: stat(latency.voice) };
  return f;
}

/** Calls whose view through the API (Redis first, PostgreSQL behind it) disagrees with PostgreSQL on the turn count. */
export async function viewMismatches(apiUrl: string, adminKey: string, pool: pg.Pool, conversations: Conversation[]): Promise<string[]> {
  const ids = conversations.filter((c) => !c.setupFailed).map((c) => c.callId);
  const { rows } = await pool.query<{ call_id: string; turn_count: number }>(
    'SELECT call_id, turn_count FROM calls WHERE call_id = ANY($1)',
    [ids],
  );
  const stored = new Map(rows.map((r) => [r.call_id, r.turn_count]));
  const out: string[] = [];
  for (const id of ids) {
    const res = await fetch(`${apiUrl}/v1/calls/${id}`, {
      headers: { authorization: `Bearer ${adminKey}` },
      signal: AbortSignal.timeout(10_000),
    });
    const view = (await res.json()) as { turnCount?: number };
    if (!res.ok || view.turnCount !== stored.get(id))
      out.push(`${id}: API view ${res.status} turnCount ${view.turnCount}, PostgreSQL turn_count ${stored.get(id)}`);
  }
  return out;
}

/**
 * The workflow tasks that timed out in the calls' histories, by kind: a task left on a dead (or busy) worker's sticky queue
 * waits the worker's sticky timeout (schedule-to-start); a task a killed worker had started waits the workflow task timeout.
 */
export async function taskTimeouts(connection: Connection, conversations: Conversation[]): Promise<TaskTimeouts> {
  const out = { scheduleToStart: 0, startToClose: 0 };
  for (const c of conversations) {
    const { history } = await connection.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId: workflowIdFor(c.callId) },
      maximumPageSize: 10_000,
    });
    for (const e of history?.events ?? []) {
      const type = e.workflowTaskTimedOutEventAttributes?.timeoutType;
      if (type === TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START) out.scheduleToStart++;
      if (type === TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE) out.startToClose++;
    }
  }
  return out;
}

export interface TaskTimeouts {
  scheduleToStart: number;
  startToClose: number;
}

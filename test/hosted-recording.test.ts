// Recording a hosted Twilio call: once answered, the worker asks Twilio's Recordings API (a stand-in) to record;
// Twilio's signed RecordingStatusCallback joins the call view, its events and the end-of-call report, and an
// ended call waits for it before it closes. Erasing the caller's transcripts deletes the recordings at Twilio.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRows } from './support/assertions.js';
import { eventually, PUBLIC_BASE_URL, type Harness } from './support/harness.js';
import { newRecordingSid, resources, type CallsRequest, type TwilioApi } from './support/twilio-api.js';
import { ACCOUNT_SID, agentNumber, hostedHarness, newNumber } from './support/twilio-hosted.js';
import { postTwilio, TwilioCall } from './support/twilio-voice.js';

let h: Harness;
let twilio: TwilioApi;
let recorded: string;
beforeAll(async () => {
  ({ h, twilio } = await hostedHarness());
  // The stand-in takes the report too: it records every request it gets.
  recorded = await agentNumber(h, { record: true, reportUrl: `${twilio.url}/reports` });
});
afterAll(async () => {
  await h?.close();
  await twilio?.close();
});

const recordingsOf = (sid: string) => `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${sid}/Recordings.json`;
const deleteOf = (recordingSid: string) => `/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recordingSid}.json`;
const requested = (path: string, method = 'POST'): Promise<CallsRequest> =>
  eventually(() => {
    const found = twilio.requests.find((r) => r.path === path && r.method === method);
    expect(found, `${method} ${path}`).toBeDefined();
    return found!;
  });
const running = async (sid: string) => (await h.handle(sid).describe()).status.name;

/** Twilio's callback once the recording is processed, signed as Twilio signs it. */
async function recordingReady(call: TwilioCall, recordingSid: string, seconds: number) {
  const url = `${PUBLIC_BASE_URL}/v1/voice/twilio/recording?callId=${call.sid}`;
  const res = await postTwilio(h, url, {
    AccountSid: ACCOUNT_SID,
    CallSid: call.sid,
    RecordingSid: recordingSid,
    RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recordingSid}`,
    RecordingStatus: 'completed',
    RecordingDuration: String(seconds),
    RecordingChannels: '2',
    RecordingSource: 'StartCallRecordingAPI',
  });
  expect(res.status).toBe(200);
  return `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recordingSid}`;
}

/** A recorded call from `from` that ends on goodbye and gets its recording; answers the recording's sid. */
async function recordedCall(from: string): Promise<{ call: TwilioCall; recordingSid: string }> {
  const recordingSid = newRecordingSid();
  twilio.answer(resources(recordingSid));
  const call = new TwilioCall(h, from, recorded);
  await call.dial();
  await requested(recordingsOf(call.sid));
  expect((await call.say('thanks, bye')).hangup).toBe(true);
  await recordingReady(call, recordingSid, 7);
  await eventually(async () => expect(await running(call.sid)).toBe('COMPLETED'));
  return { call, recordingSid };
}

describe('recording', () => {
  it('starts once answered, waits past the goodbye for the callback, and joins the view, the events and the report', async () => {
    const recordingSid = newRecordingSid();
    twilio.answer(resources(recordingSid));
    const call = new TwilioCall(h, newNumber(), recorded);
    await call.dial();
    const start = await requested(recordingsOf(call.sid));
    expect(start.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT_SID}:test-twilio-auth-token`).toString('base64')}`);
    expect(Object.fromEntries(start.form)).toMatchObject({
      RecordingStatusCallback: `${PUBLIC_BASE_URL}/v1/voice/twilio/recording?callId=${call.sid}`,
      RecordingStatusCallbackMethod: 'POST',
      RecordingStatusCallbackEvent: 'completed',
    });

    const bye = await call.say('thanks, bye');
    expect(bye.hangup).toBe(true);
    await eventually(async () => expect((await h.query(call.sid)).status).toBe('ended'));
    // Ended, and no report yet: the workflow waits for the recording (up to 10 minutes).
    expect(await running(call.sid)).toBe('RUNNING');
    expect(twilio.requests.filter((r) => r.path === '/reports')).toEqual([]);
    expect((await h.request('GET', `/calls/${call.sid}`)).body.recording).toBeNull();

    const url = await recordingReady(call, recordingSid, 42);
    const recording = { url, durationSeconds: 42 };
    await eventually(async () => expect(await running(call.sid)).toBe('COMPLETED'));
    const view = await h.request('GET', `/calls/${call.sid}`);
    expect(view.body).toMatchObject({ status: 'ended', disposition: 'completed', recording });
    expect(await h.rows('SELECT recording FROM calls WHERE call_id = $1', [call.sid])).toEqual([{ recording }]);
    expect(JSON.parse((await h.redis.hget(`call:${call.sid}`, 'view'))!).recording).toEqual(recording);
    const events = (await eventRows(h, call.sid)).filter((e) => e.type === 'recording');
    expect(events).toMatchObject([{ key: `twilio:recording:${recordingSid}`, applied: true, payload: { recording, sid: recordingSid } }]);
    const report = await requested('/reports');
    expect(JSON.parse(report.raw).call).toMatchObject({ callId: call.sid, recording });
    // Twilio repeating its callback changes nothing.
    await recordingReady(call, recordingSid, 42);
    expect((await eventRows(h, call.sid)).filter((e) => e.type === 'recording')).toHaveLength(1);
  });

  it('erasing the caller’s transcripts deletes the recordings at Twilio and from the view; again, nothing more', async () => {
    const from = newNumber();
    const { call, recordingSid } = await recordedCall(from);
    const erased = await h.request('DELETE', `/callers/${encodeURIComponent(from)}?erase=transcripts`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    expect(erased.body).toEqual({ erased: { calls: 1, turns: 3, recordings: 1 } });
    const deleted = await requested(deleteOf(recordingSid), 'DELETE');
    expect(deleted.authorization).toMatch(/^Basic /);
    expect(await h.rows('SELECT recording FROM calls WHERE call_id = $1', [call.sid])).toEqual([{ recording: null }]);
    expect((await h.request('GET', `/calls/${call.sid}`)).body.recording).toBeNull();

    const again = await h.request('DELETE', `/callers/${encodeURIComponent(from)}?erase=transcripts`);
    expect(again.body).toEqual({ erased: { calls: 1, turns: 0, recordings: 0 } });
    expect(twilio.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it('Twilio answering 404 counts as deleted; a network error is a 503 that changes nothing, so the erasure can be retried', async () => {
    const from = newNumber();
    const gone = await recordedCall(from);
    const kept = await recordedCall(from);
    // One recording is already gone at Twilio; the other's request never gets an answer (the API gives up after 1 s).
    twilio.answer((r) => {
      if (r.path === deleteOf(gone.recordingSid)) return { status: 404, body: { code: 20404, message: 'not found' } };
      return r.path === deleteOf(kept.recordingSid) ? null : { status: 500, body: {} };
    });
    const failed = await h.request('DELETE', `/callers/${encodeURIComponent(from)}?erase=transcripts`);
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('unavailable');
    const rows = async () =>
      Object.fromEntries(
        (await h.rows('SELECT call_id, recording FROM calls WHERE call_id = ANY($1)', [[gone.call.sid, kept.call.sid]])).map((r) => [
          r.call_id,
          r.recording !== null,
        ]),
      );
    // Calls are taken in the order they ended: the first one's recording was gone, and is forgotten already.
    expect(await rows()).toEqual({ [gone.call.sid]: false, [kept.call.sid]: true });

    twilio.answer(resources());
    const retried = await h.request('DELETE', `/callers/${encodeURIComponent(from)}?erase=transcripts`);
    expect(retried.body).toEqual({ erased: { calls: 2, turns: 0, recordings: 1 } });
    expect(await rows()).toEqual({ [gone.call.sid]: false, [kept.call.sid]: false });
  });
});

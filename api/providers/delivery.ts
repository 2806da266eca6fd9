// Delivers a provider's status callback to its call as a signal: never waits for the workflow to act on it.
import { readCall, type Stores } from '../../store/call-reader.js';
import type { CallGateway } from '../call-gateway.js';
import { prepareStart } from '../call-start.js';
import { callOfLeg, ownLeg } from './leg-map.js';
import { firstLegEvent, joinedLegEvent, startOf, type StatusCallback } from './lifecycle.js';
import { EVERY_ACCOUNT } from '../../store/scope.js';

export type Deliver = (cb: StatusCallback) => Promise<void>;

export function statusCallbacks({ gateway, stores }: { gateway: CallGateway; stores: Stores }): Deliver {
  // signalWithStart for every callback of a first leg: whichever arrives first creates the call, with the
  // caller's profile and the agent of the number called.
  const deliverOwn = async (cb: StatusCallback) => {
    // A call the provider reports is counted, never refused: Callwright only observes it.
    const { start, config } = await prepareStart(stores, startOf(cb), undefined, { takesLine: false });
    await gateway.signalWithStart(start, firstLegEvent(cb), config);
  };

  return async function deliver(cb: StatusCallback): Promise<void> {
    const callId = await callOfLeg(stores, cb);
    if (callId === cb.sid) return deliverOwn(cb);
    // An outbound leg another call owns is the leg Callwright placed for it: that call's own leg, and never
    // a call of its own, even once the call has ended (a late callback is dropped).
    if (cb.direction === 'outbound') {
      await gateway.signal(callId, firstLegEvent(cb));
      return;
    }
    if (await gateway.signal(callId, joinedLegEvent(cb))) return;
    // The joined call has closed. If it never took this leg, its window closed first: the leg is a call of its own.
    const joined = await readCall(stores, EVERY_ACCOUNT, callId);
    if (joined?.legs.includes(cb.sid)) return; // a late callback for an ended call
    await ownLeg(stores, cb.sid);
    await deliverOwn(cb);
  };
}

// The scripted assistant as a Responder, for workers and calls that run it as an activity.
import { scriptedReply } from '../../workflows/scripted-responder.js';
import type { Responder } from './types.js';

export const scriptedResponder: Responder = async (input) => scriptedReply(input);

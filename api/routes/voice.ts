// Hosted voice conversations: each provider's routes over one provider-neutral conversation.
import type { ApiDeps } from '../deps.js';
import { router } from '../openapi.js';
import { VoiceConversation } from '../voice/conversation.js';
import { twilioVoiceRoutes } from '../voice/twilio.js';
import { vonageVoiceRoutes } from '../voice/vonage.js';

export function voiceRoutes(deps: ApiDeps) {
  const conversation = new VoiceConversation(deps.gateway, deps.stores, deps.voiceHoldAfterMs, deps.countRefusal);
  return router()
    .route('/', twilioVoiceRoutes(deps.webhooks, conversation, deps.gateway))
    .route('/', vonageVoiceRoutes(deps.webhooks, conversation, deps.gateway));
}

import { scriptedResponder } from './scripted.js';
import type { Responder } from './types.js';

export interface ResponderSettings {
  url?: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
}

/** The scripted assistant unless an OpenAI-compatible endpoint is configured. */
export async function createResponder(settings: ResponderSettings): Promise<Responder> {
  if (!settings.url) return scriptedResponder;
  const { openAiResponder } = await import('./openai.js');
  return openAiResponder({ ...settings, url: settings.url });
}

// The default responder: deterministic and pure, so the workflow runs it in place (no activity round
// trip) and tests and demos can rely on every word.
import { COMPLETE, remember, scriptStep, type Script } from './conversation.js';

const NAME = /\b(?:my name is|i am|i'm|call me|this is)\s+([a-z][a-z'-]{0,39})/i;
const ASKS_NAME = /\bwhat(?:'s| is) my name\b|\bwho am i\b|\bdo you know my name\b/i;
const GREETING = /^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening))\b/i;
/** Words that end a conversation: "bye", "goodbye", "that's all", "thanks, bye". */
const GOODBYE = /\b(?:bye|good-?bye|bye-bye|that's all|that is all|that's it for now)\b/i;
const THANKS = /\b(?:thank you|thanks)\b/i;
const NOT_NAMES = new Set(['calling', 'here', 'back', 'fine', 'good', 'ok', 'okay', 'not', 'sorry', 'looking', 'trying']);

export interface Answer {
  text: string;
  /** What the call has learned so far (the caller's name, for one). */
  context: Record<string, unknown>;
  /** The conversation is over (the caller said goodbye, or the script is done): a phone call hangs up after this reply. */
  concluded?: boolean;
}

/** What an agent gives the scripted assistant: a script to follow and topics to notice. */
export interface Guide {
  script?: Script;
  topics?: string[];
}

/** The reply to a caller's message, and what the call remembers of it. */
export function scriptedReply({ text, context, script, topics }: Omit<Answer, 'concluded'> & Guide): Answer {
  const remembered = remember(context, text, topics);
  const step = script && scriptStep(remembered, text, script);
  if (step) return step.context.state === COMPLETE ? { ...step, concluded: true } : step;
  return freeReply(text, remembered);
}

/** The assistant without a script (or after it): learns a name, answers "what is my name?", greets, says goodbye. */
function freeReply(text: string, context: Record<string, unknown>): Answer {
  const name = typeof context.name === 'string' ? context.name : undefined;
  const said = NAME.exec(text)?.[1];
  if (said && !NOT_NAMES.has(said.toLowerCase())) {
    const learned = said[0].toUpperCase() + said.slice(1).toLowerCase();
    return { text: `Nice to meet you, ${learned}. How can I help you today?`, context: { ...context, name: learned } };
  }
  if (ASKS_NAME.test(text)) {
    return {
      text: name ? `Your name is ${name}.` : "I don't know your name yet. What should I call you?",
      context,
    };
  }
  if (GOODBYE.test(text)) return { text: `Goodbye${name ? `, ${name}` : ''}! Thanks for calling.`, context, concluded: true };
  if (GREETING.test(text)) return { text: name ? `Hello again, ${name}! How can I help?` : 'Hello! How can I help you today?', context };
  if (THANKS.test(text)) return { text: `You're welcome${name ? `, ${name}` : ''}. Anything else?`, context };
  return { text: `I understand: "${text.trim().slice(0, 200)}". Tell me more.`, context };
}

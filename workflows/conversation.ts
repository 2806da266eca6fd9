// The conversation's memory in `context`, kept by the workflow: the caller's last messages, the agent's
// topics they mentioned, and a script's slots (asked in order, filled from the replies). Pure code.

export interface Script {
  slots: { name: string; ask: string }[];
  /** The closing line; `{slot}` placeholders take the values collected. */
  done?: string;
}

export type Context = Record<string, unknown>;

const RECENT = 5;
/** `context.state` once every slot of the script is filled. */
export const COMPLETE = 'complete';

const NAME_IN_REPLY = /\b(?:my name is|i am|i'm|call me|this is|it's)\s+([a-z][a-z'-]{0,39})/i;

const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}'-]+/gu) ?? []);
const capitalized = (name: string) => name[0]!.toUpperCase() + name.slice(1).toLowerCase();

/** Records a caller's message: the last five messages, and the agent's topics in first-mention order. */
export function remember(context: Context, text: string, topics: string[] = []): Context {
  const recent = Array.isArray(context.recentQueries) ? (context.recentQueries as string[]) : [];
  const next: Context = { ...context, recentQueries: [...recent, text.trim().slice(0, 500)].slice(-RECENT) };
  const known = Array.isArray(context.topics) ? (context.topics as string[]) : [];
  const unknown = topics.filter((t) => !known.includes(t));
  // Splitting words takes a Unicode regex: a profile of the workflow thread found it on every turn, topics or not.
  const said = unknown.length ? words(text) : undefined;
  const mentioned = unknown.filter((t) => [...words(t)].every((w) => said!.has(w)));
  if (mentioned.length || known.length) next.topics = [...known, ...mentioned];
  return next;
}

/** A slot's value in a reply: a `name` slot understands "my name is Ada" and "I'm Ada"; others take the reply. */
function slotValue(slot: string, text: string): string {
  const reply = text
    .trim()
    .replace(/[.!?]+$/, '')
    .slice(0, 200);
  if (slot !== 'name') return reply;
  const said = NAME_IN_REPLY.exec(text)?.[1];
  return capitalized(said ?? reply.split(/\s+/)[0]!);
}

/**
 * One step of a script: fills the slot being asked from this reply, then asks the next one, or closes
 * with `done`. Null once the script is complete (the default assistant answers from then on).
 */
export function scriptStep(context: Context, text: string, script: Script): { text: string; context: Context } | null {
  if (context.state === COMPLETE) return null;
  const slots = { ...(context.slots as Record<string, string> | undefined) };
  const next: Context = { ...context };
  const asking = script.slots.find((s) => s.name === context.state);
  if (asking) {
    slots[asking.name] = slotValue(asking.name, text);
    if (asking.name === 'name') next.name = slots.name;
  }
  next.slots = slots;
  const open = script.slots.find((s) => slots[s.name] === undefined);
  if (open) return { text: open.ask, context: { ...next, state: open.name } };
  const done = (script.done ?? 'Thank you, that is everything I needed.').replace(/\{(\w+)\}/g, (_, k: string) => slots[k] ?? `{${k}}`);
  return { text: done, context: { ...next, state: COMPLETE } };
}

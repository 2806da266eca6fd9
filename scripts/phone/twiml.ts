// TwiML as the phone reads it: a small XML parser (elements, attributes, text, CDATA, entities) and the
// voice verbs it simulates. TwiML never needs namespaces or DTDs, so neither does this.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: (XmlElement | string)[];
}

export class TwimlError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

const NAME = /[A-Za-z_][\w.:-]*/y;
const ATTR = /\s+([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
const TAG_END = /\s*(\/?)>/y;

/** Parses one XML document into its root element; whitespace-only text between elements is dropped. */
export function parseXml(xml: string): XmlElement {
  let at = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (why: string): never => {
    const line = xml.slice(0, at).split('\n').length;
    throw new TwimlError(`not TwiML: ${why} (line ${line})`);
  };
  const skipPast = (end: string) => {
    const found = xml.indexOf(end, at);
    if (found < 0) fail(`no closing ${end}`);
    const from = at;
    at = found + end.length;
    return xml.slice(from, found);
  };
  const addText = (text: string) => {
    if (!text.trim()) return;
    if (!stack.length) fail('text outside the root element');
    stack[stack.length - 1].children.push(text);
  };
  const match = (re: RegExp) => {
    re.lastIndex = at;
    const m = re.exec(xml);
    if (m) at = re.lastIndex;
    return m;
  };

  while (at < xml.length) {
    if (xml[at] !== '<') {
      const next = xml.indexOf('<', at);
      const end = next < 0 ? xml.length : next;
      addText(decode(xml.slice(at, end)));
      at = end;
    } else if (xml.startsWith('<?', at)) skipPast('?>');
    else if (xml.startsWith('<!--', at)) skipPast('-->');
    else if (xml.startsWith('<![CDATA[', at)) {
      at += 9;
      addText(skipPast(']]>'));
    } else if (xml.startsWith('<!', at)) skipPast('>');
    else if (xml.startsWith('</', at)) {
      at += 2;
      const name = match(NAME)?.[0] ?? fail('a closing tag without a name');
      if (match(TAG_END)?.[1] !== '') fail(`a malformed </${name}>`);
      const open = stack.pop();
      if (open?.name !== name) fail(open ? `</${name}> closes <${open.name}>` : `</${name}> closes nothing`);
    } else {
      at += 1;
      const name = match(NAME)?.[0] ?? fail('a tag without a name');
      const element: XmlElement = { name, attrs: {}, children: [] };
      for (let m = match(ATTR); m; m = match(ATTR)) element.attrs[m[1]] = decode(m[2] ?? m[3]);
      const end = match(TAG_END) ?? fail(`a malformed <${name}>`);
      if (stack.length) stack[stack.length - 1].children.push(element);
      else if (root) fail('a second root element');
      else root = element;
      if (!end[1]) stack.push(element);
    }
  }
  if (stack.length) fail(`<${stack[stack.length - 1].name}> is never closed`);
  return root ?? fail('no element');
}

/** The element's text with its whitespace collapsed, as a speech engine would read it. */
export function textOf(element: XmlElement): string {
  const parts = element.children.map((c) => (typeof c === 'string' ? c : textOf(c)));
  return parts.join(' ').replace(/\s+/g, ' ').trim();
}

export type Method = 'GET' | 'POST';

export type Verb =
  | { verb: 'Say'; text: string }
  | { verb: 'Play'; url: string }
  | { verb: 'Pause'; seconds: number }
  | { verb: 'Gather'; action?: string; method: Method; input: string[]; prompts: Verb[] }
  | { verb: 'Redirect'; url: string; method: Method }
  | { verb: 'Dial'; action?: string; method: Method; target: string; timeout: number }
  | { verb: 'Connect'; action?: string; method: Method; target: string }
  | { verb: 'Hangup' }
  | { verb: 'Reject'; reason: 'busy' | 'rejected' }
  | { verb: 'Other'; name: string };

const methodOf = (el: XmlElement): Method => (el.attrs.method?.toUpperCase() === 'GET' ? 'GET' : 'POST');
const numberOf = (text: string | undefined, fallback: number) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : fallback);

/** Who a <Dial> or <Connect> reaches: its text, or its nouns (<Number>, <Client>, <ConversationRelay url>...). */
function targetOf(el: XmlElement): string {
  const nouns = el.children.filter((c): c is XmlElement => typeof c !== 'string');
  if (!nouns.length) return textOf(el);
  // A number or a SIP address reads as itself; other nouns say what they are.
  const named = (n: XmlElement) => (n.name === 'Number' || n.name === 'Sip' ? '' : `${n.name} `);
  return nouns.map((n) => `${named(n)}${textOf(n) || n.attrs.url || n.attrs.name || ''}`.trim()).join(', ');
}

function toVerb(el: XmlElement): Verb {
  switch (el.name) {
    case 'Say':
      return { verb: 'Say', text: textOf(el) };
    case 'Play':
      return { verb: 'Play', url: textOf(el) };
    case 'Pause':
      return { verb: 'Pause', seconds: numberOf(el.attrs.length, 1) };
    case 'Gather':
      return {
        verb: 'Gather',
        action: el.attrs.action,
        method: methodOf(el),
        // Twilio listens for keys only unless told otherwise.
        input: (el.attrs.input ?? 'dtmf').split(/\s+/).filter(Boolean),
        prompts: el.children.filter((c): c is XmlElement => typeof c !== 'string').map(toVerb),
      };
    case 'Redirect':
      return { verb: 'Redirect', url: textOf(el), method: methodOf(el) };
    case 'Dial':
      return { verb: 'Dial', action: el.attrs.action, method: methodOf(el), target: targetOf(el), timeout: numberOf(el.attrs.timeout, 30) };
    case 'Connect':
      return { verb: 'Connect', action: el.attrs.action, method: methodOf(el), target: targetOf(el) };
    case 'Hangup':
      return { verb: 'Hangup' };
    case 'Reject':
      return { verb: 'Reject', reason: el.attrs.reason === 'busy' ? 'busy' : 'rejected' };
    default:
      return { verb: 'Other', name: el.name };
  }
}

/** A voice TwiML document's verbs, in the order Twilio runs them. */
export function parseTwiml(xml: string): Verb[] {
  const root = parseXml(xml);
  if (root.name !== 'Response') throw new TwimlError(`not TwiML: the root element is <${root.name}>, not <Response>`);
  return root.children.filter((c): c is XmlElement => typeof c !== 'string').map(toVerb);
}

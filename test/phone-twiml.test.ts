// The terminal phone's TwiML reader: the XML it must take (and refuse), and the verbs it makes of it.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { parseTwiml, parseXml, textOf, TwimlError } from '../scripts/phone/twiml.js';

describe('parseXml', () => {
  it('reads elements, attributes in either quote, text, entities, CDATA, comments and the declaration', () => {
    const root = parseXml(
      `\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<!-- a comment --><Response a="1" b='two &amp; three'>` +
        `<Say>Tom &amp; Jerry &lt;3 &#233;&#xE9; &apos;hi&quot;</Say><![CDATA[<raw> & text]]><Hangup/><Pause length="2" /></Response>`,
    );
    expect(root.name).toBe('Response');
    expect(root.attrs).toEqual({ a: '1', b: 'two & three' });
    expect(root.children).toEqual([
      { name: 'Say', attrs: {}, children: [`Tom & Jerry <3 éé 'hi"`] },
      '<raw> & text',
      { name: 'Hangup', attrs: {}, children: [] },
      { name: 'Pause', attrs: { length: '2' }, children: [] },
    ]);
  });

  it('collapses whitespace in text and keeps unknown entities as written', () => {
    const root = parseXml('<Say>\n  Hello,\n   world &nbsp;\n</Say>');
    expect(textOf(root)).toBe('Hello, world &nbsp;');
  });

  it.each([
    ['', 'no element'],
    ['<Response>', '<Response> is never closed'],
    ['<Response></Say>', '</Say> closes <Response>'],
    ['<Response/><Response/>', 'a second root element'],
    ['hello <Response/>', 'text outside the root element'],
    ['<Response a=1/>', 'a malformed <Response>'],
    ['<Response><!-- open</Response>', 'no closing -->'],
    ['</Response>', '</Response> closes nothing'],
  ])('refuses %j: %s', (xml, why) => {
    expect(() => parseXml(xml)).toThrow(new TwimlError(`not TwiML: ${why} (line 1)`));
  });

  it('names the line of a mistake', () => {
    expect(() => parseXml('<Response>\n<Say>\n</Gather>')).toThrow(/\(line 3\)$/);
  });
});

describe('parseTwiml', () => {
  it('reads the verbs of a document built by twilio.twiml.VoiceResponse, in order', () => {
    const r = new twilio.twiml.VoiceResponse();
    r.say('Hello! <How> can I help?');
    const gather = r.gather({ input: ['speech', 'dtmf'], action: '/v1/voice/twilio/turn?n=1&k=a', method: 'POST', speechTimeout: 'auto' });
    gather.say('Go ahead.');
    gather.pause({ length: 1 });
    r.redirect({ method: 'POST' }, 'https://example.com/v1/voice/twilio?silence=1');
    r.pause({ length: 3 });
    r.dial({ action: 'dialed', timeout: 20 }, '+15550001111');
    r.dial().number('+15550002222');
    r.dial().sip('sip:ops@example.com');
    r.dial().client('alice');
    r.connect({ action: '/after' }).conversationRelay({ url: 'wss://example.com/relay' });
    r.play('https://example.com/hold.mp3');
    r.reject({ reason: 'busy' });
    r.reject();
    r.hangup();
    r.record();
    expect(parseTwiml(r.toString())).toEqual([
      { verb: 'Say', text: 'Hello! <How> can I help?' },
      {
        verb: 'Gather',
        action: '/v1/voice/twilio/turn?n=1&k=a',
        method: 'POST',
        input: ['speech', 'dtmf'],
        prompts: [
          { verb: 'Say', text: 'Go ahead.' },
          { verb: 'Pause', seconds: 1 },
        ],
      },
      { verb: 'Redirect', url: 'https://example.com/v1/voice/twilio?silence=1', method: 'POST' },
      { verb: 'Pause', seconds: 3 },
      { verb: 'Dial', action: 'dialed', method: 'POST', target: '+15550001111', timeout: 20 },
      { verb: 'Dial', action: undefined, method: 'POST', target: '+15550002222', timeout: 30 },
      { verb: 'Dial', action: undefined, method: 'POST', target: 'sip:ops@example.com', timeout: 30 },
      { verb: 'Dial', action: undefined, method: 'POST', target: 'Client alice', timeout: 30 },
      { verb: 'Connect', action: '/after', method: 'POST', target: 'ConversationRelay wss://example.com/relay' },
      { verb: 'Play', url: 'https://example.com/hold.mp3' },
      { verb: 'Reject', reason: 'busy' },
      { verb: 'Reject', reason: 'rejected' },
      { verb: 'Hangup' },
      { verb: 'Other', name: 'Record' },
    ]);
  });

  it('takes Twilio’s defaults: a <Gather> listens for keys, methods are POST, GET when asked', () => {
    expect(parseTwiml('<Response><Gather/><Redirect method="get">/x</Redirect></Response>')).toEqual([
      { verb: 'Gather', action: undefined, method: 'POST', input: ['dtmf'], prompts: [] },
      { verb: 'Redirect', url: '/x', method: 'GET' },
    ]);
  });

  it('reads an empty <Response/> as no verbs and refuses other roots', () => {
    expect(parseTwiml('<?xml version="1.0" encoding="UTF-8"?><Response/>')).toEqual([]);
    expect(() => parseTwiml('<html><body>Not found</body></html>')).toThrow('the root element is <html>, not <Response>');
  });
});

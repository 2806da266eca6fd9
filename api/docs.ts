// A human page for the API, rendered on the server from the same OpenAPI document: no scripts, nothing from the internet.
import type { Handler } from 'hono';

export const OPENAPI_CONFIG = {
  openapi: '3.1.0',
  info: { title: 'Callwright API', version: '1.0.0', description: 'Durable call lifecycles on Temporal' },
};

interface Operation {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: Record<string, unknown> }[];
  requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> };
  responses?: Record<string, { description?: string }>;
}
interface Document {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
const refName = (schema?: Record<string, unknown>) => (typeof schema?.$ref === 'string' ? schema.$ref.split('/').pop() : schema?.type ? String(schema.type) : '');

function renderOperation(method: string, path: string, op: Operation): string {
  const params = (op.parameters ?? [])
    .map((p) => `<li><code>${esc(p.name)}</code> <small>${esc(p.in)}${p.required ? ', required' : ''}${p.schema?.type ? `, ${esc(p.schema.type)}` : ''}${Array.isArray(p.schema?.enum) ? `: ${esc(p.schema.enum.join(' | '))}` : ''}</small>${p.description ? ` — ${esc(p.description)}` : ''}</li>`)
    .join('');
  const body = Object.entries(op.requestBody?.content ?? {}).map(([type, c]) => `<code>${esc(type)}</code> ${esc(refName(c.schema))}`).join(', ');
  const responses = Object.entries(op.responses ?? {}).map(([code, r]) => `<li><code>${esc(code)}</code> ${esc(r.description)}</li>`).join('');
  return `<section id="${esc(`${method}-${path}`)}">
<h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary)}${op.security?.length ? ' <small>(bearer)</small>' : ''}</p>
${params ? `<h4>Parameters</h4><ul>${params}</ul>` : ''}${body ? `<h4>Body</h4><p>${body}</p>` : ''}
<h4>Responses</h4><ul>${responses}</ul>
</section>`;
}

export function renderDocs(doc: Document): string {
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ path, method: m, op: item[m]! })),
  );
  const groups = new Map<string, typeof ops>();
  for (const o of ops) {
    const tag = o.op.tags?.[0] ?? 'other';
    groups.set(tag, [...(groups.get(tag) ?? []), o]);
  }
  const sections = [...groups].map(([tag, list]) => `<h2>${esc(tag)}</h2>\n${list.map((o) => renderOperation(o.method, o.path, o.op)).join('\n')}`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.5rem 0}h3{margin:.3rem 0}h4{margin:.4rem 0 .1rem;font-size:.9rem}
code{background:#f4f4f4;padding:0 .2rem}.m{display:inline-block;min-width:4rem;font-size:.8rem;color:#fff;text-align:center;border-radius:3px;padding:.1rem .3rem}
.get{background:#2a7ae2}.post{background:#2a9d4a}.put,.patch{background:#c98a00}.delete{background:#c0392b}
</style></head><body>
<h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description)}. Machine-readable: <a href="/openapi.json">/openapi.json</a>.
Operators send <code>Authorization: Bearer &lt;ADMIN_API_KEY&gt;</code>; chat clients send a JWT from <code>POST /v1/auth/tokens</code>.</p>
${sections}
</body></html>`;
}

/** GET /docs: rendered once, on first request, when every route is registered. */
export function docsPage(document: () => object): Handler {
  let html: string | undefined;
  return (c) => {
    html ??= renderDocs(document() as Document);
    c.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    return c.html(html);
  };
}

// Renders the configuration reference (a Markdown table: key, type, default, meaning) from the schema.
// README.md embeds the output between markers; a test fails when they differ (`npm run docs` rewrites it).
import { configJsonSchema, variantsOf, type JsonSchemaNode } from './config-json-schema.js';

export const REFERENCE_START = '<!-- config-reference:start -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

function typeOf(node: JsonSchemaNode): string {
  if (node.valueType) return node.valueType;
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (node.type === 'array') return 'list';
  const range = node.minimum !== undefined && node.maximum !== undefined ? ` ${node.minimum}-${node.maximum}` : '';
  return `${Array.isArray(node.type) ? node.type.join(' | ') : (node.type ?? 'any')}${range}`;
}

function rows(node: JsonSchemaNode, path: string, out: string[], variant?: string): void {
  for (const option of variantsOf(node)) {
    const tag = option.oneOf || option.anyOf ? undefined : discriminatorOf(option);
    for (const [key, child] of Object.entries(option.properties ?? {})) {
      const childPath = path === '' ? key : `${path}.${key}`;
      const required = option.required?.includes(key) ? 'required' : child.default !== undefined ? `\`${JSON.stringify(child.default)}\`` : '-';
      const when = tag ?? variant;
      const description = `${when ? `(${when}) ` : ''}${child.description ?? ''}`.replace(/\|/g, '\\|');
      if (child.properties || child.oneOf) {
        out.push(`| \`${childPath}\` | object | ${required} | ${description} |`);
        rows(child, childPath, out, when);
      } else if (child.items?.properties) {
        out.push(`| \`${childPath}[]\` | list | ${required} | ${description} |`);
        rows(child.items, `${childPath}[]`, out, when);
      } else {
        out.push(`| \`${childPath}\` | ${typeOf(child)} | ${required} | ${description} |`);
      }
    }
  }
}

/** `driver: fs` for the fs variant of a union, so each row says which variant it belongs to. */
function discriminatorOf(node: JsonSchemaNode): string | undefined {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (child.const !== undefined) return `${key}: ${String(child.const)}`;
  }
  return undefined;
}

/** The whole reference table, without the markers. */
export function formatConfigReference(): string {
  const out = ['| key | type | default | meaning |', '| --- | --- | --- | --- |'];
  rows(configJsonSchema, '', out);
  // A discriminator row repeats per variant; keep the first of identical rows.
  return [...new Set(out)].join('\n');
}

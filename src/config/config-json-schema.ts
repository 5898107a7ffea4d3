// The config schema as JSON Schema (derived from the zod schema, never written by hand): used for typo
// suggestions in errors and to generate the README configuration reference, so docs and code cannot drift.
import { z } from 'zod';
import { configSchema } from './config-schema.js';

/** The subset of JSON Schema that the config schema produces and we read. */
export interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  valueType?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  items?: JsonSchemaNode;
  oneOf?: JsonSchemaNode[];
  anyOf?: JsonSchemaNode[];
}

export const configJsonSchema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;

/** A node and the variants of its union, if any. */
export function variantsOf(node: JsonSchemaNode): JsonSchemaNode[] {
  return [node, ...(node.oneOf ?? []), ...(node.anyOf ?? [])];
}

/** The valid keys of the object at `path` in the config (all variants of a union). */
export function configKeysAt(path: readonly PropertyKey[]): string[] {
  let nodes: JsonSchemaNode[] = [configJsonSchema];
  for (const part of path) {
    const next: JsonSchemaNode[] = [];
    for (const node of nodes.flatMap(variantsOf)) {
      if (typeof part === 'number' && node.items) next.push(node.items);
      else if (typeof part === 'string' && node.properties?.[part]) next.push(node.properties[part]);
    }
    nodes = next;
  }
  return [...new Set(nodes.flatMap(variantsOf).flatMap((n) => Object.keys(n.properties ?? {})))];
}

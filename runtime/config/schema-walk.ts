import type { FieldPath } from "./field-path.ts";

/** Just enough of valibot's schema objects to walk them by path. */
interface SchemaNode {
  type: string;
  entries?: Record<string, SchemaNode>;
  wrapped?: SchemaNode;
  item?: SchemaNode;
  value?: SchemaNode;
  options?: SchemaNode[];
}

/** The object keys a schema allows at `path`, for "did you mean" on unknown keys. */
export function allowedKeysAt(schema: unknown, path: FieldPath): string[] {
  let nodes: SchemaNode[] = [schema as SchemaNode];
  for (const part of path) nodes = nodes.flatMap((node) => childOf(node, part));
  return nodes.flatMap((node) => objectEntries(node));
}

function unwrap(node: SchemaNode): SchemaNode[] {
  if (node.wrapped) return unwrap(node.wrapped);
  if (node.type === "union" && node.options) return node.options.flatMap(unwrap);
  return [node];
}

function objectEntries(node: SchemaNode): string[] {
  return unwrap(node).flatMap((inner) => (inner.entries ? Object.keys(inner.entries) : []));
}

function childOf(node: SchemaNode, part: string | number): SchemaNode[] {
  return unwrap(node).flatMap((inner) => {
    if (inner.entries && typeof part === "string" && inner.entries[part]) return [inner.entries[part]];
    if (inner.type === "record" && inner.value) return [inner.value];
    if (inner.type === "array" && inner.item) return [inner.item];
    return [];
  });
}

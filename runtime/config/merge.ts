export type Tree = Record<string, unknown>;

export function isTree(value: unknown): value is Tree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge for profile layers: maps merge key by key, lists and scalars replace. */
export function deepMerge(base: Tree, override: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** Calls `visit` for every leaf (scalar, list or empty map) with its path. */
export function forEachLeaf(
  tree: unknown,
  visit: (path: Array<string | number>, value: unknown) => void,
  path: Array<string | number> = [],
): void {
  if (isTree(tree) && Object.keys(tree).length > 0) {
    for (const [key, value] of Object.entries(tree)) forEachLeaf(value, visit, [...path, key]);
  } else if (Array.isArray(tree) && tree.length > 0) {
    visit(path, tree);
    tree.forEach((item, index) =>
      isTree(item) || Array.isArray(item) ? forEachLeaf(item, visit, [...path, index]) : undefined,
    );
  } else {
    visit(path, tree);
  }
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

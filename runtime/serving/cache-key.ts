/** model/version/hash: the version in the key is what makes an activation invalidate by construction. */
export function cacheKey(model: string, version: number, hash: string): string {
  return `${model}/${version}/${hash}`;
}

/**
 * Hash of the checked float32 inputs, the last part of a cache key: equal inputs give equal keys whatever
 * their JSON spelling. The typed array is hashed as it is: asking it for its `buffer`
 * would make JavaScriptCore allocate one.
 */
export function inputHash(x: Float32Array): string {
  return Bun.SHA1.hash(x, "hex");
}

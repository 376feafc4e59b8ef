// A bounded memo for pure string functions on the admission hot path (escaped annotation paths,
// per-container annotation keys, JSON string literals). The inputs recur across Pods (container
// names, policy names), so each is computed once. When full, the cache is dropped whole: memory
// stays bounded whatever names arrive, and there is no per-hit bookkeeping as an LRU would need.

export const MEMO_LIMIT = 4096;

export function boundedMemo<V>(compute: (key: string) => V, limit = MEMO_LIMIT): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) {
      v = compute(key);
      if (cache.size >= limit) cache.clear();
      cache.set(key, v);
    }
    return v;
  };
}

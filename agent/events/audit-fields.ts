// The key=value body of a kernel audit record as the kernel log carries it
// (`audit: type=N audit(SECONDS:SERIAL): key=value key="quoted value" ...`), for the parsers of
// Seccomp's (1326) and AppArmor's (1400) records. Pure.

/** One pattern per record type, made once: the kernel log's every record goes past these. */
const HEADS = new Map<number, RegExp>();

/** The record's fields with their quotes taken off, or undefined when `text` is not an audit record of `type`. */
export function auditFields(text: string, type: number): Map<string, string> | undefined {
  let head = HEADS.get(type);
  if (!head) HEADS.set(type, (head = new RegExp(`type=${type} audit\\([\\d.:]+\\): (.*)$`)));
  const m = head.exec(text.trim());
  if (!m) return undefined;
  const f = new Map<string, string>();
  for (const kv of m[1].matchAll(/(\w+)=("[^"]*"|\S+)/g)) f.set(kv[1], kv[2].replace(/^"(.*)"$/, '$1'));
  return f;
}

// A light syntax check of AppArmor rule text embedded in a policy (appArmorRawRules and
// DefenseInDepth custom profiles), so that an obvious mistake is refused at admission rather
// than when apparmor_parser runs on a node. The parser itself remains the final judge.

import type { Issues } from './issues.js';

export function checkAppArmorRules(issues: Issues, path: string, text: string): void {
  if (text.trim() === '') {
    issues.add(path, 'invalid-apparmor-rule', 'rules must not be empty');
    return;
  }
  if (text.includes('{{') || text.includes('}}')) {
    issues.add(path, 'invalid-apparmor-rule', 'template braces "{{" / "}}" are not allowed in AppArmor rules');
  }
  let depth = 0;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#(?!include).*$/, '').trim();
    if (line === '' || /^#?include\s/.test(line) || /^(abi|@\{|\$\{)/.test(line)) {
      if (/^abi\s/.test(line) && !line.endsWith(',')) {
        issues.add(`${path}(line ${i + 1})`, 'invalid-apparmor-rule', `"${line}" must end with ","`);
      }
      return;
    }
    for (const ch of line) {
      if (ch === '{') depth++;
      if (ch === '}') depth--;
      if (depth < 0) {
        issues.add(`${path}(line ${i + 1})`, 'invalid-apparmor-rule', 'unbalanced "}"');
        depth = 0;
      }
    }
    if (!line.endsWith(',') && !line.endsWith('{') && !line.endsWith('}')) {
      issues.add(`${path}(line ${i + 1})`, 'invalid-apparmor-rule', `rule "${line}" must end with ","`);
    }
  });
  if (depth > 0) issues.add(path, 'invalid-apparmor-rule', `${depth} unclosed "{"`);
}

/**
 * WWW-Authenticate parsing (RFC 7235 section 4.1, the distribution token spec): a scheme and
 * comma-separated auth-params whose values may be quoted strings with backslash escapes.
 */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(', ') : header;
  const out: Challenge[] = [];
  let i = 0;
  const n = text.length;
  const skipWs = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const token = () => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(text[i])) i++;
    return text.slice(start, i);
  };
  while (i < n) {
    skipWs();
    while (i < n && text[i] === ',') {
      i++;
      skipWs();
    }
    const scheme = token();
    if (!scheme) break;
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    for (;;) {
      skipWs();
      const save = i;
      const key = token();
      skipWs();
      if (!key || text[i] !== '=') {
        i = save;
        break;
      }
      i++;
      skipWs();
      let value = '';
      if (text[i] === '"') {
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < n) i++;
          value += text[i++];
        }
        i++;
      } else {
        value = token();
      }
      ch.params[key.toLowerCase()] = value;
      skipWs();
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
  }
  return out;
}

/**
 * Dockerfile instructions applied as config changes, for `import --change`
 * and `commit --change`: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL,
 * ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR.
 */
import { invalidArgument } from '../lib/errors.js';
import { mergeEnv, type ContainerDefaults } from '../oci/image.js';

const ALLOWED = new Set(['cmd', 'entrypoint', 'env', 'expose', 'healthcheck', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

/** A JSON array of strings, or undefined when the text is not one (then it is shell form). */
export function parseJsonArray(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    return undefined;
  }
  return undefined;
}

/** Splits on whitespace, honouring double and single quotes and backslash escapes. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** `KEY=VALUE ...` pairs, or the legacy `KEY VALUE` form when there is no `=` in the first word. */
export function parseKeyValues(text: string, instruction: string): Array<[string, string]> {
  const trimmed = text.trim();
  const firstWord = trimmed.split(/\s+/)[0] ?? '';
  if (!firstWord.includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(trimmed);
    if (!m) throw invalidArgument(`${instruction} requires at least one argument`);
    return [[m[1]!, m[2]!]];
  }
  return splitWords(trimmed).map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalidArgument(`${instruction} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function commandForm(rest: string, shell: string[]): string[] {
  return parseJsonArray(rest) ?? [...shell, rest.trim()];
}


/** Applies one change line to a copy of `config`. */
export function applyChange(config: ContainerDefaults, line: string): ContainerDefaults {
  const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(line);
  if (!m) return config;
  const word = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (!ALLOWED.has(word)) throw invalidArgument(`${word} is not a valid change command`);
  const shell = config.Shell ?? ['/bin/sh', '-c'];
  const out: ContainerDefaults = { ...config };
  switch (word) {
    case 'cmd':
      out.Cmd = commandForm(rest, shell);
      break;
    case 'entrypoint':
      out.Entrypoint = rest.trim() === '' ? null : commandForm(rest, shell);
      break;
    case 'env': {
      let env = [...(config.Env ?? [])];
      for (const [k, v] of parseKeyValues(rest, 'ENV')) env = mergeEnv(env, [`${k}=${v}`]);
      out.Env = env;
      break;
    }
    case 'label': {
      const labels = { ...(config.Labels ?? {}) };
      for (const [k, v] of parseKeyValues(rest, 'LABEL')) labels[k] = v;
      out.Labels = labels;
      break;
    }
    case 'expose': {
      const ports = { ...(config.ExposedPorts ?? {}) };
      for (const p of splitWords(rest)) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw invalidArgument(`invalid containerPort: ${p}`);
        ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
      }
      out.ExposedPorts = ports;
      break;
    }
    case 'volume': {
      const vols = { ...(config.Volumes ?? {}) };
      for (const v of parseJsonArray(rest) ?? splitWords(rest)) vols[v] = {};
      out.Volumes = vols;
      break;
    }
    case 'user':
      out.User = rest.trim();
      break;
    case 'workdir':
      out.WorkingDir = rest.trim();
      break;
    case 'stopsignal':
      out.StopSignal = rest.trim();
      break;
    case 'onbuild':
      out.OnBuild = [...(config.OnBuild ?? []), rest.trim()];
      break;
    case 'healthcheck': {
      const words = splitWords(rest);
      if (words[0]?.toUpperCase() === 'NONE') out.Healthcheck = { Test: ['NONE'] };
      else {
        const idx = rest.toUpperCase().indexOf('CMD');
        if (idx < 0) throw invalidArgument('HEALTHCHECK requires CMD or NONE');
        const cmd = rest.slice(idx + 3);
        const json = parseJsonArray(cmd);
        out.Healthcheck = { ...(config.Healthcheck ?? {}), Test: json ? ['CMD', ...json] : ['CMD-SHELL', cmd.trim()] };
      }
      break;
    }
  }
  return out;
}

export function applyChanges(config: ContainerDefaults, lines: readonly string[]): ContainerDefaults {
  return lines.reduce(applyChange, config);
}

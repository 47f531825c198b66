/**
 * A Dockerfile read the way BuildKit reads it, for checks without a Docker engine: comment lines
 * dropped, `\` continuations joined, one instruction per logical line, grouped into stages.
 */

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, flags included. */
  args: string;
  /** `--name=value` options in front of the arguments (COPY --from=build, HEALTHCHECK --interval=...). */
  flags: Record<string, string>;
  /** The arguments after the flags. */
  rest: string;
}

export interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && pending === '')) continue;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${pending}${trimmed}`.trim());
    pending = '';
  }
  if (pending.trim()) logical.push(pending.trim());

  const stages: Stage[] = [];
  for (const line of logical.filter(Boolean)) {
    const [keyword] = line.split(/\s+/, 1);
    const args = line.slice(keyword.length).trim();
    const { flags, rest } = splitFlags(args);
    const instruction = { keyword: keyword.toUpperCase(), args, flags, rest };
    if (instruction.keyword === 'FROM') {
      const [base, as, name] = rest.split(/\s+/);
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw new Error(`${instruction.keyword} before the first FROM`);
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return stages;
}

function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const match = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(rest);
    if (!match) return { flags, rest };
    flags[match[1]] = match[2] ?? 'true';
    rest = rest.slice(match[0].length);
  }
}

/** The JSON array of an exec-form CMD, ENTRYPOINT or HEALTHCHECK CMD. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string'))
    throw new Error(`not an exec form: ${args}`);
  return parsed;
}

/** `ENV A=1 B=2` (or the legacy `ENV A 1`) as a record. */
export function envPairs(args: string): Record<string, string> {
  if (!args.includes('=')) {
    const [name, ...value] = args.split(/\s+/);
    return { [name]: value.join(' ') };
  }
  const pairs: Record<string, string> = {};
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|'([^']*)'|(\S*))/g)) {
    pairs[match[1]] = match[3] ?? match[4] ?? match[5] ?? '';
  }
  return pairs;
}

/**
 * Generators of agent messages for the fuzz tests: valid signals built from the contract's rules
 * (./signal-contract.ts: SPEC.md and the published schema, written out, never src's own patterns),
 * and bad messages of every kind, each with the outcome the bridge owes it (accepted, or the DLQ
 * reason and the field the detail must name). Shared by the unit properties and the end-to-end run.
 */
import fc from 'fast-check';
import type { DlqReason } from '../../src/bridge/parse';
import {
  AGENT_NAME,
  AGENT_NAME_CHARS,
  AGENT_NAME_MAX,
  CORR_ID,
  CORR_ID_CHARS,
  CORR_ID_MAX,
  MAX_BYTES,
  MAX_NESTING_DEPTH,
  MAX_SHORT_TEXT,
  RESERVED_AGENT_NAMES,
  RISK_LEVELS,
  signalSubject,
  SUPPORTED_SCHEMA_MAJOR,
  TREND_DIRECTIONS,
} from './signal-contract';

export interface Expected {
  outcome: 'ok' | DlqReason;
  /** A field the DLQ detail must name, e.g. `analysis.confidence`. */
  field?: string;
}

export interface FuzzCase {
  kind: string;
  subject: string;
  data: Uint8Array;
  expected: Expected;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// JSON.stringify cannot write every text a fuzzer wants (`1e999`, an own `__proto__` key, bad
// UTF-8), so such spots are marked with a placeholder string and replaced in the text afterwards.
const RAW = (i: number): string => `\u0000raw${i}\u0000`;
const RAW_IN_TEXT = /"\\u0000raw(\d+)\\u0000"/g;

/** A JSON text to put in as it is, such as `1e999`. */
class Raw {
  constructor(readonly text: string) {}
}

function render(value: Json, raws: string[] = []): string {
  return JSON.stringify(value).replace(RAW_IN_TEXT, (_, i: string) => raws[Number(i)]);
}

const encoder = new TextEncoder();

function jsonCase(kind: string, agent: string, value: Json, expected: Expected, raws: string[] = []): FuzzCase {
  return { kind, subject: signalSubject(agent), data: encoder.encode(render(value, raws)), expected };
}

/**
 * Strings matching `pattern`, and as often strings of `chars` of any length up to `max` (uniformly:
 * fast-check's stringMatching rarely goes beyond a dozen characters, so the upper bound would go
 * untested).
 */
const matching = (pattern: RegExp, chars: string, max: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.stringMatching(pattern),
    fc
      .integer({ min: 1, max })
      .chain((length) => fc.string({ unit: fc.constantFrom(...chars), minLength: length, maxLength: length })),
  );
export const agentNameArb = matching(AGENT_NAME, AGENT_NAME_CHARS, AGENT_NAME_MAX).filter(
  (name) => !RESERVED_AGENT_NAMES.includes(name),
);
export const corrIdArb = matching(CORR_ID, CORR_ID_CHARS, CORR_ID_MAX);
const unit = fc.double({ min: 0, max: 1, noNaN: true });
// At most MAX_SHORT_TEXT / 2 code points are at most MAX_SHORT_TEXT UTF-16 units; 'binary' includes lone surrogates.
const shortText = fc.oneof(
  fc.string({ maxLength: MAX_SHORT_TEXT / 2, unit: 'binary' }),
  fc.constantFrom('\u202eRTL\u202c', 'zero\u200bwidth\u200d', '\ud800', '\udfff', '👩‍👩‍👧', 'مرحبا'),
);

const KNOWN_ANALYSIS = [
  'trend_direction',
  'momentum_strength',
  'confidence',
  'risk_level',
  'overall_score',
  'position_sizing',
];
const KNOWN_TOP = [
  'schema_version',
  'agent_name',
  'agent_version',
  'corr_id',
  'enriched_at',
  'source_signal',
  'analysis',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

/**
 * Keys an agent may add anywhere unknown fields pass through; never one of `taken`, never a prototype key (those are
 * cases of their own).
 */
const extraKey = (taken: string[]) =>
  fc.oneof(fc.string({ maxLength: 12 }), shortText).filter((key) => !taken.includes(key) && !PROTO_KEYS.includes(key));
const extras = (taken: string[]) =>
  fc.dictionary(extraKey(taken), fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>, { maxKeys: 3 });

const analysisArb = fc
  .record(
    {
      trend_direction: fc.constantFrom(...TREND_DIRECTIONS),
      momentum_strength: unit,
      confidence: unit,
      risk_level: fc.constantFrom(...RISK_LEVELS),
      overall_score: unit,
      position_sizing: fc.record(
        { recommended_size: fc.double({ min: 0, max: 1e300, noNaN: true }) },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  )
  .chain((known) => extras(KNOWN_ANALYSIS).map((more) => ({ ...more, ...known }) as { [key: string]: Json }));

/**
 * When a valid signal was enriched: any time from 12 hours ago on. One enriched longer ago than the
 * namespace's retention allows is `expired` instead (test/e2e/retention.test.ts).
 */
const isoDate = fc
  .date({ min: new Date(Date.now() - 12 * 3_600_000), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .chain((date) =>
    fc.constantFrom(
      date.toISOString(),
      date.toISOString().replace('Z', '+02:00'),
      date.toISOString().replace(/\.\d+Z$/, '-05:30'),
    ),
  );

/** A valid signal object, as an agent of that name would send it. */
export function validSignalArb(corrIds: fc.Arbitrary<string> = corrIdArb): fc.Arbitrary<{ [key: string]: Json }> {
  return fc
    .record(
      {
        schema_version: fc
          .tuple(fc.nat(999), fc.nat(999))
          .map(([minor, patch]) => `${SUPPORTED_SCHEMA_MAJOR}.${minor}.${patch}`),
        agent_name: agentNameArb,
        agent_version: shortText,
        corr_id: corrIds,
        enriched_at: isoDate,
        source_signal: fc.record({ instrument: shortText }, { requiredKeys: [] }),
        analysis: analysisArb,
      },
      { requiredKeys: ['agent_name', 'corr_id', 'analysis'] },
    )
    .chain((known) => extras(KNOWN_TOP).map((more) => ({ ...more, ...known }) as { [key: string]: Json }));
}

type Signal = { [key: string]: Json };
const agentOf = (signal: Signal): string => signal.agent_name as string;

/** Sets `value` at `path` in a copy of `signal`, creating objects on the way. */
function setPath(signal: Signal, path: string[], value: Json | undefined): Signal {
  const copy = structuredClone(signal);
  let at: Signal = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null || Array.isArray(at[key])) at[key] = {};
    at = at[key] as Signal;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

const NOT_STRING = fc.constantFrom<Json>(42, true, null, [], {}, ['momentum']);
const NOT_OBJECT = fc.constantFrom<Json>(42, true, null, 'object', [{}]);

/** Each known field with values of the wrong type or range; raw JSON texts go in as placeholders. */
const badValues: Array<{ path: string[]; values: fc.Arbitrary<Json | Raw> }> = [
  {
    path: ['agent_name'],
    values: fc.oneof(
      NOT_STRING,
      fc.constantFrom(
        '',
        'Momentum',
        'mo mentum',
        'x'.repeat(AGENT_NAME_MAX + 1),
        'mo\u200bmentum',
        'momentum\u202e',
        'ünicode',
        '\ud800',
        ...RESERVED_AGENT_NAMES,
      ),
    ),
  },
  {
    path: ['corr_id'],
    values: fc.oneof(
      NOT_STRING,
      fc.constantFrom('', 'bad id!', 'a/b', 'x'.repeat(CORR_ID_MAX + 1), 'c\u200b', '\u202ec', 'c\ud800', 'c\n'),
    ),
  },
  { path: ['analysis'], values: NOT_OBJECT },
  { path: ['agent_version'], values: fc.oneof(NOT_STRING, fc.constant('v'.repeat(MAX_SHORT_TEXT + 1))) },
  {
    path: ['enriched_at'],
    values: fc.oneof(
      NOT_STRING,
      fc.constantFrom('yesterday', '2026-13-01T00:00:00Z', '2026-01-01', '2026-01-01T00:00:00'),
    ),
  },
  { path: ['source_signal'], values: NOT_OBJECT },
  {
    path: ['source_signal', 'instrument'],
    values: fc.oneof(NOT_STRING, fc.constant('I'.repeat(MAX_SHORT_TEXT + 1))),
  },
  { path: ['analysis', 'trend_direction'], values: fc.oneof(NOT_STRING, fc.constantFrom('BULLISH', 'up', '')) },
  { path: ['analysis', 'risk_level'], values: fc.oneof(NOT_STRING, fc.constantFrom('extreme', 'Low', '')) },
  ...['momentum_strength', 'confidence', 'overall_score'].map((field) => ({
    path: ['analysis', field],
    values: fc.oneof(
      fc.constantFrom<Json | Raw>(
        '0.5',
        null,
        true,
        [0.5],
        new Raw('1e999'),
        new Raw('-1e999'),
        new Raw('1.0000000000000002'),
        new Raw('1e308'),
      ),
      fc.double({ min: 1, minExcluded: true, noNaN: true, noDefaultInfinity: true }),
      fc.double({ max: 0, maxExcluded: true, noNaN: true, noDefaultInfinity: true }).filter((x) => x !== 0),
    ),
  })),
  { path: ['analysis', 'position_sizing'], values: NOT_OBJECT },
  {
    path: ['analysis', 'position_sizing', 'recommended_size'],
    values: fc.oneof(
      fc.constantFrom<Json | Raw>('100', null, new Raw('1e999'), new Raw('-1e999')),
      fc.double({ max: 0, maxExcluded: true, noNaN: true, noDefaultInfinity: true }).filter((x) => x !== 0),
    ),
  },
];

const fieldName = (path: string[]): string => path.join('.');

/** Arrays or objects nested `depth` levels under `analysis.deep`: accepted up to the limit, refused beyond it. */
export function nested(depth: number, shape: 'array' | 'object'): string {
  return shape === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"d":'.repeat(depth)}1${'}'.repeat(depth)}`;
}
/**
 * Messages of every kind: `valid` signals, `bad` ones (most kinds are bad; prototype keys, huge
 * numbers and shallow nesting must be accepted) and a `mixed` stream of both. Every message that can
 * be accepted takes its corr_id from `corrIds`.
 */
export function fuzzCases(corrIds: fc.Arbitrary<string> = corrIdArb): {
  valid: fc.Arbitrary<FuzzCase>;
  bad: fc.Arbitrary<FuzzCase>;
  mixed: fc.Arbitrary<FuzzCase>;
} {
  const signals = validSignalArb(corrIds);

  /** A valid signal with one known field given a value of the wrong type or out of range. */
  const wrongValueCase = fc.tuple(signals, fc.constantFrom(...badValues)).chain(([signal, { path, values }]) =>
    values.map((value) => {
      const raws: string[] = [];
      const json = value instanceof Raw ? RAW(raws.push(value.text) - 1) : value;
      return jsonCase(
        'wrong_value',
        agentOf(signal),
        setPath(signal, path, json),
        { outcome: 'schema_violation', field: fieldName(path) },
        raws,
      );
    }),
  );

  const missingFieldCase = fc
    .tuple(signals, fc.constantFrom('agent_name', 'corr_id', 'analysis'))
    .map(([signal, field]) =>
      jsonCase('missing_field', agentOf(signal), setPath(signal, [field], undefined), {
        outcome: 'schema_violation',
        field,
      }),
    );

  const unknownVersionCase = fc
    .tuple(
      signals,
      fc.oneof(
        fc.nat(99).filter((major) => major !== SUPPORTED_SCHEMA_MAJOR),
        fc.constant(10),
        fc.constant(0),
      ),
      fc.nat(9),
      fc.nat(9),
    )
    .map(([signal, major, minor, patch]) =>
      jsonCase(
        'unknown_version',
        agentOf(signal),
        { ...signal, schema_version: `${major}.${minor}.${patch}` },
        { outcome: 'unsupported_schema_version', field: 'schema_version' },
      ),
    );

  const subjectMismatchCase = fc
    .tuple(signals, agentNameArb)
    .filter(([signal, other]) => signal.agent_name !== other)
    .map(([signal, other]) =>
      jsonCase('subject_mismatch', other, signal, {
        outcome: 'subject_mismatch',
        field: `agent_name "${agentOf(signal)}"`,
      }),
    );

  /** JSON's number grammar has no NaN, Infinity, leading zeros or plus signs. */
  const nonJsonNumberCase = fc
    .tuple(signals, fc.constantFrom('NaN', 'Infinity', '-Infinity', '01', '+1', '1.', '.5', '0x1', '1e'))
    .map(([signal, token]) =>
      jsonCase(
        'non_json_number',
        agentOf(signal),
        setPath(signal, ['analysis', 'confidence'], RAW(0)),
        { outcome: 'not_json' },
        [token],
      ),
    );

  const truncatedCase = fc
    .tuple(signals, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }))
    .map(([signal, share]) => {
      const text = render(signal);
      return {
        kind: 'truncated',
        subject: signalSubject(agentOf(signal)),
        data: encoder.encode(text.slice(0, Math.floor(text.length * share))),
        expected: { outcome: 'not_json' },
      } satisfies FuzzCase;
    });

  const garbageCase = fc.tuple(agentNameArb, fc.string({ unit: 'binary', maxLength: 200 })).map(([agent, text]) => ({
    kind: 'garbage',
    subject: signalSubject(agent),
    // No JSON text starts with '<'.
    data: encoder.encode(`<${text}`),
    expected: { outcome: 'not_json' } satisfies Expected,
  }));

  // Bytes that are never UTF-8: a lone continuation byte, 0xff, an overlong '/', a truncated
  // sequence, and a UTF-16 surrogate encoded as if it were a code point.
  const INVALID_UTF8 = [
    [0x80],
    [0xff],
    [0xc0, 0xaf],
    [0xc3, 0x28],
    [0xe2, 0x82],
    [0xed, 0xa0, 0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
  ];
  const invalidUtf8Case = fc.tuple(signals, fc.constantFrom(...INVALID_UTF8)).map(([signal, bad]) => {
    const [before, after] = render(setPath(signal, ['agent_version'], 'SPLIT')).split('SPLIT');
    const data = new Uint8Array([...encoder.encode(before), ...bad, ...encoder.encode(after)]);
    return {
      kind: 'invalid_utf8',
      subject: signalSubject(agentOf(signal)),
      data,
      expected: { outcome: 'not_json' },
    } satisfies FuzzCase;
  });

  const oversizeCase = fc
    .tuple(signals, fc.nat(4096), fc.constantFrom('x', 'é', '€', '😀'))
    .map(([signal, spare, char]) => {
      // Counted in bytes: multi-byte characters make a text longer in bytes than in characters.
      const pad = char.repeat(Math.ceil((MAX_BYTES + 1 + spare) / encoder.encode(char).length));
      return jsonCase('oversize', agentOf(signal), setPath(signal, ['analysis', 'pad'], pad), { outcome: 'oversize' });
    });

  const ROOTS: Json[] = [null, 0, -1.5, true, false, 'signal', [], [{ agent_name: 'momentum' }], ''];
  const nonObjectRootCase = fc
    .tuple(agentNameArb, fc.constantFrom(...ROOTS))
    .map(([agent, root]) => jsonCase('non_object_root', agent, root, { outcome: 'schema_violation', field: '(root)' }));

  /** Containers at levels 1 (the root) and 2 (`analysis`) come before `analysis.deep`. */
  const LEVELS_ABOVE_DEEP = 2;
  const deepNestingCase = fc
    .tuple(
      signals,
      fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 10_000 })),
      fc.constantFrom<'array' | 'object'>('array', 'object'),
    )
    .map(([signal, depth, shape]) => {
      const tooDeep = depth + LEVELS_ABOVE_DEEP > MAX_NESTING_DEPTH;
      return jsonCase(
        'deep_nesting',
        agentOf(signal),
        setPath(signal, ['analysis', 'deep'], RAW(0)),
        tooDeep ? { outcome: 'schema_violation', field: 'analysis' } : { outcome: 'ok' },
        [nested(depth, shape)],
      );
    });

  /**
   * Prototype keys wherever unknown fields may go, holding values that would break the signal if they
   * leaked into the prototype chain. They pass through (or are dropped) and never pollute anything.
   */
  const protoKeyCase = fc
    .tuple(
      signals,
      fc.constantFrom([], ['analysis'], ['source_signal'], ['analysis', 'position_sizing']),
      fc.constantFrom(...PROTO_KEYS),
    )
    .map(([signal, at, key]) => {
      const poison: Json = {
        corr_id: 'bad id!',
        agent_name: 'Bad',
        confidence: 5,
        risk_level: 'nope',
        recommended_size: -1,
        polluted: true,
      };
      const withMarker = setPath(signal, [...at, RAW(0)], poison);
      return jsonCase('proto_key', agentOf(signal), withMarker, { outcome: 'ok' }, [JSON.stringify(key)]);
    });

  /** An agent named like a property of every object, on its own subject. */
  const reservedAgentCase = fc
    .tuple(signals, fc.constantFrom(...RESERVED_AGENT_NAMES))
    .map(([signal, agent]) =>
      jsonCase(
        'reserved_agent',
        agent,
        { ...signal, agent_name: agent },
        { outcome: 'schema_violation', field: 'agent_name' },
      ),
    );

  /** JSON keeps the last of repeated keys: a valid value first must not hide a bad one after it. */
  const duplicateKeyCase = signals.map((signal) =>
    jsonCase(
      'duplicate_key',
      agentOf(signal),
      setPath(signal, ['analysis', RAW(0)], 5),
      { outcome: 'schema_violation', field: 'analysis.confidence' },
      ['"confidence":0.5,"confidence"'],
    ),
  );

  /** Numbers beyond what a double holds exactly, or at all, where unknown fields pass through. */
  const hugeNumberCase = fc
    .tuple(
      signals,
      fc.constantFrom('123456789012345678901234567890', '1e308', '-1e308', '5e-324', '1e-400', '1e999', '-1e999'),
    )
    .map(([signal, token]) =>
      jsonCase('huge_number', agentOf(signal), setPath(signal, ['analysis', 'big'], RAW(0)), { outcome: 'ok' }, [
        token,
      ]),
    );

  const validCase = signals.map((signal) => jsonCase('valid', agentOf(signal), signal, { outcome: 'ok' }));

  /**
   * Every tricky kind, equally likely; most are bad, some (prototype keys, huge numbers, shallow nesting) must be
   * accepted.
   */
  const bad: fc.Arbitrary<FuzzCase> = fc.oneof(
    wrongValueCase,
    missingFieldCase,
    unknownVersionCase,
    subjectMismatchCase,
    nonJsonNumberCase,
    truncatedCase,
    garbageCase,
    invalidUtf8Case,
    oversizeCase,
    nonObjectRootCase,
    deepNestingCase,
    protoKeyCase,
    hugeNumberCase,
    reservedAgentCase,
    duplicateKeyCase,
  );

  // Mostly bad messages, with valid ones among them.
  return { valid: validCase, bad, mixed: fc.oneof({ arbitrary: bad, weight: 9 }, { arbitrary: validCase, weight: 1 }) };
}

/**
 * Runs and seed of a property: `ORCH_FUZZ_RUNS` overrides the number of runs (or of messages, end to
 * end), `ORCH_FUZZ_SEED` the fixed default seed, so a failing run replays exactly.
 */
export function fuzzSettings(defaultRuns: number): { numRuns: number; seed: number } {
  const numRuns = Number(process.env.ORCH_FUZZ_RUNS ?? defaultRuns);
  const seed = Number(process.env.ORCH_FUZZ_SEED ?? DEFAULT_SEED);
  if (!Number.isInteger(numRuns) || numRuns < 1 || !Number.isInteger(seed))
    throw new Error('ORCH_FUZZ_RUNS must be a positive integer and ORCH_FUZZ_SEED an integer');
  return { numRuns, seed };
}

const DEFAULT_SEED = 20_261_122;

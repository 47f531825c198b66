/**
 * Property-based fuzzing of parseAgentMessage, the bridge's only judge of agent input: whatever the
 * bytes, it answers (never throws) with a signal that re-validates and that Temporal can serialise,
 * or with a DLQ reason and a detail that names the bad field.
 * Replay a failure with the seed it prints: ORCH_FUZZ_SEED=<seed> npx jest test/fuzz/parse.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { type DlqReason, parseAgentMessage, type ParseResult } from '../../src/bridge/parse';
import { agentSignalSchema } from '../../src/contract/agent-signal';
import { REPO_ROOT } from '../support/paths';
import { type FuzzCase, fuzzCases, fuzzSettings, nested } from './agent-messages';
import {
  AGENT_SIGNAL_SCHEMA_FILE,
  DEFAULT_SCHEMA_VERSION,
  MAX_BYTES,
  MAX_NESTING_DEPTH,
  RESERVED_AGENT_NAMES,
  SIGNAL_SUBJECT_PREFIX,
} from './signal-contract';

const REASONS: DlqReason[] = [
  'oversize',
  'not_json',
  'schema_violation',
  'unsupported_schema_version',
  'subject_mismatch',
  'late',
];
const settings = fuzzSettings(2_000);
const decoder = new TextDecoder();
const { mixed, valid } = fuzzCases();

beforeAll(() => {
  // fast-check prints the seed of a failing run itself; this line says which seed a passing run used.
  console.log(`fuzz: ${settings.numRuns} runs per property, seed ${settings.seed} (ORCH_FUZZ_RUNS, ORCH_FUZZ_SEED)`);
});

const objectPrototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
/** The published contract of a signal (the file, not src's zod schema it is generated from). */
const publishedSchema = addFormats(new Ajv2020({ allErrors: true, strict: false })).compile(
  JSON.parse(readFileSync(join(REPO_ROOT, AGENT_SIGNAL_SCHEMA_FILE), 'utf8')),
);

/** What must hold of any answer, whatever the input. */
function expectWellFormed(subject: string, result: ParseResult): void {
  if (result.ok) {
    // What the bridge hands on must be what the schema says, and must survive Temporal's JSON.
    expect(agentSignalSchema.safeParse(result.signal)).toEqual({ success: true, data: result.signal });
    expect({ valid: publishedSchema(result.signal), errors: publishedSchema.errors ?? null }).toEqual({
      valid: true,
      errors: null,
    });
    expect(() => JSON.stringify(result.signal)).not.toThrow();
    expect(`${SIGNAL_SUBJECT_PREFIX}${result.signal.agent_name}`).toBe(subject);
    expect(Object.getPrototypeOf(result.signal)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(result.signal.analysis)).toBe(Object.prototype);
  } else {
    expect(REASONS).toContain(result.reason);
    expect(result.detail.trim()).not.toBe('');
  }
  // Nothing any message holds may reach the prototype every object shares.
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(objectPrototypeKeys);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

function expectOutcome(fuzzCase: FuzzCase, result: ParseResult): void {
  const { expected } = fuzzCase;
  if (expected.outcome === 'ok') {
    expect(result).toMatchObject({ ok: true });
    return;
  }
  expect(result).toMatchObject({ ok: false, reason: expected.outcome });
  if (expected.field !== undefined && !result.ok) expect(result.detail).toContain(expected.field);
}

describe('parseAgentMessage under fuzzing', () => {
  it('answers every generated message with the outcome it deserves, naming the bad field', () => {
    fc.assert(
      fc.property(mixed, (fuzzCase) => {
        const result = parseAgentMessage(fuzzCase.subject, fuzzCase.data, MAX_BYTES);
        expectWellFormed(fuzzCase.subject, result);
        expectOutcome(fuzzCase, result);
      }),
      settings,
    );
  });

  it('accepts every valid signal as it was sent, with the default schema version', () => {
    fc.assert(
      fc.property(valid, ({ subject, data }) => {
        const result = parseAgentMessage(subject, data, MAX_BYTES);
        expectWellFormed(subject, result);
        expect(result).toEqual({
          ok: true,
          signal: { schema_version: DEFAULT_SCHEMA_VERSION, ...JSON.parse(decoder.decode(data)) },
        });
      }),
      settings,
    );
  });

  it('never throws on arbitrary bytes, subjects and limits', () => {
    const subject = fc.oneof(fc.string(), fc.stringMatching(/^signals\.enriched\.[a-z0-9_-]{1,8}$/));
    fc.assert(
      fc.property(subject, fc.uint8Array({ maxLength: 512 }), fc.nat(1_024), (subject, data, maxBytes) => {
        expectWellFormed(subject, parseAgentMessage(subject, data, maxBytes));
      }),
      settings,
    );
  });

  it('never throws on arbitrary JSON, and refuses any that is not a signal', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const data = new TextEncoder().encode(JSON.stringify(value));
        expectWellFormed('signals.enriched.momentum', parseAgentMessage('signals.enriched.momentum', data, MAX_BYTES));
      }),
      settings,
    );
  });

  it('never throws when any field of a valid signal is replaced by any JSON value', () => {
    const replaced = fc.tuple(
      valid,
      fc.array(fc.constantFrom('analysis', 'source_signal', 'position_sizing', 'x'), { maxLength: 2 }),
      fc.constantFrom(
        'agent_name',
        'corr_id',
        'confidence',
        'risk_level',
        'instrument',
        'recommended_size',
        'schema_version',
        '__proto__',
      ),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(replaced, ([{ subject, data }, path, key, value]) => {
        const signal = JSON.parse(decoder.decode(data)) as Record<string, unknown>;
        let at = signal;
        for (const step of path)
          at = (at[step] = typeof at[step] === 'object' && at[step] !== null ? at[step] : {}) as Record<
            string,
            unknown
          >;
        // defineProperty makes `__proto__` an own key, as JSON.parse would.
        Object.defineProperty(at, key, { value, enumerable: true, writable: true, configurable: true });
        expectWellFormed(
          subject,
          parseAgentMessage(subject, new TextEncoder().encode(JSON.stringify(signal)), MAX_BYTES),
        );
      }),
      settings,
    );
  });

  it.each([
    ['100,000 levels of arrays at the root', nested(100_000, 'array')],
    ['100,000 levels of objects at the root', nested(100_000, 'object')],
    [
      '100,000 levels of arrays under analysis',
      `{"agent_name":"momentum","corr_id":"c","analysis":{"deep":${nested(100_000, 'array')}}}`,
    ],
    [
      '100,000 levels of objects under analysis',
      `{"agent_name":"momentum","corr_id":"c","analysis":{"deep":${nested(100_000, 'object')}}}`,
    ],
    ['a million unclosed arrays', '['.repeat(1_000_000)],
  ])('refuses %s without overflowing the stack', (_, text) => {
    const result = parseAgentMessage('signals.enriched.momentum', new TextEncoder().encode(text), 10_000_000);
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/^(not_json|schema_violation)$/) });
  });

  it(`accepts ${MAX_NESTING_DEPTH} levels of nesting and refuses one more, naming the field`, () => {
    // The root object and `analysis` are the first two levels.
    const withDepth = (levels: number) =>
      new TextEncoder().encode(
        `{"agent_name":"momentum","corr_id":"c","analysis":{"deep":${nested(levels - 2, 'array')}}}`,
      );
    expect(parseAgentMessage('signals.enriched.momentum', withDepth(MAX_NESTING_DEPTH), MAX_BYTES)).toMatchObject({
      ok: true,
    });
    expect(parseAgentMessage('signals.enriched.momentum', withDepth(MAX_NESTING_DEPTH + 1), MAX_BYTES)).toEqual({
      ok: false,
      reason: 'schema_violation',
      detail: `analysis: nested deeper than ${MAX_NESTING_DEPTH} levels`,
    });
  });

  it('hands Temporal only signals it can serialise: a few thousand levels fit in 64 KiB but not on the stack', () => {
    const text = `{"agent_name":"momentum","corr_id":"c","analysis":{"deep":${nested(20_000, 'array')}}}`;
    expect(text.length).toBeLessThan(MAX_BYTES);
    const result = parseAgentMessage('signals.enriched.momentum', new TextEncoder().encode(text), MAX_BYTES);
    expect(result).toMatchObject({
      ok: false,
      reason: 'schema_violation',
      detail: expect.stringContaining('analysis'),
    });
  });

  it.each(RESERVED_AGENT_NAMES)('refuses the agent name %s, which every plain object already has', (agent) => {
    const data = new TextEncoder().encode(JSON.stringify({ agent_name: agent, corr_id: 'c', analysis: {} }));
    expect(parseAgentMessage(`signals.enriched.${agent}`, data, MAX_BYTES)).toMatchObject({
      ok: false,
      reason: 'schema_violation',
      detail: expect.stringContaining('agent_name'),
    });
  });
});

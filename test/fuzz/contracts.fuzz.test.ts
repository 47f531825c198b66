/**
 * Property-based fuzzing of the other zod contracts: the policy (an operator's file), the decision
 * and the correlation state (what readers validate). Any input gets an answer, never an exception,
 * and a refusal names the fields at fault.
 * Replay a failure with the seed it prints: ORCH_FUZZ_SEED=<seed> npx jest test/fuzz/contracts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { agentNameSchema } from '../../src/contract/agent-signal';
import { correlationStateSchema } from '../../src/contract/correlation-state';
import { orchestrationDecisionSchema } from '../../src/contract/decision';
import { parseOrThrow, ValidationError } from '../../src/contract/errors';
import { type PolicyInput, policySchema } from '../../src/contract/policy';
import { REPO_ROOT } from '../support/paths';
import { agentNameArb, fuzzSettings } from './agent-messages';
import {
  AGENT_NAME,
  AGENT_NAME_CHARS,
  AGENT_NAME_MAX,
  AGENT_SIGNAL_SCHEMA_FILE,
  CORR_ID,
  CORR_ID_CHARS,
  CORR_ID_MAX,
  DEFAULT_SCHEMA_VERSION,
  MAX_BYTES,
  MAX_NESTING_DEPTH,
  MAX_SHORT_TEXT,
  RESERVED_AGENT_NAMES,
  RISK_LEVELS,
  SIGNAL_SUBJECT_PREFIX,
  SUPPORTED_SCHEMA_MAJOR,
  TREND_DIRECTIONS,
} from './signal-contract';

const settings = fuzzSettings(1_000);

beforeAll(() => {
  console.log(`fuzz: ${settings.numRuns} runs per property, seed ${settings.seed} (ORCH_FUZZ_RUNS, ORCH_FUZZ_SEED)`);
});

const POLICY_FIELDS = [
  'version',
  'expected_agents',
  'timeout_ms',
  'min_agents_threshold',
  'max_agents',
  'weights',
  'default_weight',
  'partial_data_penalty',
  'thresholds',
  'risk_level_scores',
  'instrument_classes',
  'routes',
  'default_route',
];

/** A policy that holds, from the schema's rules: distinct expected agents, a threshold within them. */
const validPolicy: fc.Arbitrary<PolicyInput> = fc
  .record({
    version: fc.string({ minLength: 1 }),
    expected_agents: fc.uniqueArray(agentNameArb, { minLength: 1, maxLength: 8 }),
    timeout_ms: fc.integer({ min: 1 }),
    default_weight: fc.double({ min: 0, max: 1e6, noNaN: true }),
    partial_data_penalty: fc.double({ min: 0, max: 1, noNaN: true }),
    default_route: fc.string({ minLength: 1 }),
  })
  .chain((policy) =>
    fc.integer({ min: 1, max: policy.expected_agents.length }).map((min) => ({ ...policy, min_agents_threshold: min })),
  );

/** Whatever the outcome, parsing answers: a value, or a ValidationError naming each bad field. */
function expectAnswer(schema: Parameters<typeof parseOrThrow>[0], input: unknown): unknown {
  try {
    return parseOrThrow(schema, input, 'input');
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const { fields, message } = error as ValidationError;
    expect(fields.length).toBeGreaterThan(0);
    for (const field of fields) if (field !== '') expect(message).toContain(field);
    return undefined;
  }
}

describe('contracts under fuzzing', () => {
  it('accepts every policy built from the rules, and its output validates again', () => {
    fc.assert(
      fc.property(validPolicy, (input) => {
        const policy = policySchema.parse(input);
        expect(policy).toMatchObject(input);
        expect(policySchema.parse(policy)).toEqual(policy);
      }),
      settings,
    );
  });

  it('answers a policy with any field set to any JSON value, and never lets through what it refuses to validate again', () => {
    const mutated = fc.tuple(
      validPolicy,
      fc.constantFrom(...POLICY_FIELDS, 'unknown_field', '__proto__', 'constructor'),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(mutated, ([input, field, value]) => {
        const copy: Record<string, unknown> = { ...input };
        Object.defineProperty(copy, field, { value, enumerable: true, writable: true, configurable: true });
        const policy = expectAnswer(policySchema, JSON.parse(JSON.stringify(copy)));
        if (policy !== undefined) expect(policySchema.safeParse(policy).success).toBe(true);
        expect(({} as Record<string, unknown>).version).toBeUndefined();
      }),
      settings,
    );
  });

  it('answers arbitrary JSON for every contract', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom(policySchema, orchestrationDecisionSchema, correlationStateSchema),
        (value, schema) => {
          expectAnswer(schema, value);
        },
      ),
      settings,
    );
  });

  it('refuses a policy that names a reserved agent, which plain-object lookups would mistake for a property', () => {
    for (const agent of RESERVED_AGENT_NAMES) {
      expect(() =>
        parseOrThrow(policySchema, { version: 'v', expected_agents: ['momentum', agent] }, 'policy'),
      ).toThrow(/expected_agents\.1: must match .* and not be __proto__ or constructor/);
    }
  });

  it("reserves exactly the agent names that every plain object already has, and src's schema refuses each", () => {
    // SPEC's list and pattern, against the language: every inherited name an agent could take is reserved.
    const inherited = Object.getOwnPropertyNames(Object.prototype).filter((name) => AGENT_NAME.test(name));
    expect([...RESERVED_AGENT_NAMES].sort()).toEqual(inherited.sort());
    for (const name of RESERVED_AGENT_NAMES)
      expect({ name, accepted: agentNameSchema.safeParse(name).success }).toEqual({ name, accepted: false });
  });
});

describe('the contract the fuzz tests build their input from (test/fuzz/signal-contract.ts)', () => {
  const spec = readFileSync(join(REPO_ROOT, 'docs', 'SPEC.md'), 'utf8').replace(/\s+/g, ' ');
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, AGENT_SIGNAL_SCHEMA_FILE), 'utf8')) as {
    properties: Record<string, { pattern?: string; maxLength?: number; allOf?: Array<{ pattern: string }> }> & {
      analysis: { properties: Record<string, { enum?: string[] }> };
      source_signal: { properties: { instrument: { maxLength: number } } };
    };
  };

  it('is what SPEC.md says', () => {
    const said = (pattern: RegExp): string[] => pattern.exec(spec)?.slice(1) ?? [];
    const [agentName] = said(/`agent_name` \(`([^`]+)`\)/);
    expect(AGENT_NAME.source).toBe(`^${agentName}$`);
    const [corrIdMax, corrIdClass] = said(/`corr_id` \(1–(\d+) chars of `(\[[^`]+\])`\)/);
    expect(CORR_ID.source).toBe(`^${corrIdClass}{1,${corrIdMax}}$`);
    expect(said(/Agent names `([^`]+)` and `([^`]+)` match/)).toEqual([...RESERVED_AGENT_NAMES]);
    expect(said(/subjects `([^`<]+)<agent>`/)).toEqual([SIGNAL_SUBJECT_PREFIX]);
    expect(said(/`trend_direction` \(([^)]+)\)/)).toEqual([TREND_DIRECTIONS.join('|')]);
    expect(said(/`risk_level` \(([^)]+)\)/)).toEqual([RISK_LEVELS.join('|')]);
    expect(said(/Message size limit: (\d+) KiB by default/).map(Number)).toEqual([MAX_BYTES / 1024]);
    expect(said(/nested deeper than (\d+) levels is refused as `schema_violation`/).map(Number)).toEqual([
      MAX_NESTING_DEPTH,
    ]);
    expect(said(/`schema_version` \(semver, default `([^`]+)`\)/)).toEqual([DEFAULT_SCHEMA_VERSION]);
  });

  it('is what the published schema says', () => {
    const { properties } = schema;
    expect(properties.agent_name.pattern).toBe(
      `^(?!(?:${RESERVED_AGENT_NAMES.join('|')})$)${AGENT_NAME.source.slice(1)}`,
    );
    expect(properties.corr_id.pattern).toBe(CORR_ID.source);
    expect(properties.schema_version.allOf?.map((p) => p.pattern)).toEqual([
      '^\\d+\\.\\d+\\.\\d+$',
      `^${SUPPORTED_SCHEMA_MAJOR}\\.`,
    ]);
    expect(properties.analysis.properties.trend_direction.enum).toEqual([...TREND_DIRECTIONS]);
    expect(properties.analysis.properties.risk_level.enum).toEqual([...RISK_LEVELS]);
    expect(properties.agent_version.maxLength).toBe(MAX_SHORT_TEXT);
    expect(properties.source_signal.properties.instrument.maxLength).toBe(MAX_SHORT_TEXT);
  });

  it('generates from the characters and lengths the patterns allow', () => {
    expect(AGENT_NAME.test(AGENT_NAME_CHARS.slice(0, AGENT_NAME_MAX))).toBe(true);
    expect(AGENT_NAME.test('a'.repeat(AGENT_NAME_MAX + 1))).toBe(false);
    expect([...AGENT_NAME_CHARS].every((c) => AGENT_NAME.test(c))).toBe(true);
    expect(CORR_ID.test('a'.repeat(CORR_ID_MAX))).toBe(true);
    expect(CORR_ID.test('a'.repeat(CORR_ID_MAX + 1))).toBe(false);
    expect([...CORR_ID_CHARS].every((c) => CORR_ID.test(c))).toBe(true);
    // Every character a pattern allows is in its alphabet: the printable ASCII ones are all candidates.
    const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
    expect(ascii.filter((c) => AGENT_NAME.test(c)).join('')).toBe([...AGENT_NAME_CHARS].sort().join(''));
    expect(ascii.filter((c) => CORR_ID.test(c)).join('')).toBe([...CORR_ID_CHARS].sort().join(''));
  });
});

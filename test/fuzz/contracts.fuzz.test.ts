/**
 * Property-based fuzzing of the other zod contracts: the policy (an operator's file), the decision
 * and the correlation state (what readers validate). Any input gets an answer, never an exception,
 * and a refusal names the fields at fault.
 * Replay a failure with the seed it prints: ORCH_FUZZ_SEED=<seed> npx jest test/fuzz/contracts.
 */
import fc from 'fast-check';
import { AGENT_NAME_PATTERN, RESERVED_AGENT_NAMES } from '../../src/contract/agent-signal';
import { correlationStateSchema } from '../../src/contract/correlation-state';
import { orchestrationDecisionSchema } from '../../src/contract/decision';
import { parseOrThrow, ValidationError } from '../../src/contract/errors';
import { type PolicyInput, policySchema } from '../../src/contract/policy';
import { agentNameArb, fuzzSettings } from './agent-messages';

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

  it('reserves exactly the agent names that every plain object already has', () => {
    const inherited = Object.getOwnPropertyNames(Object.prototype).filter((name) => AGENT_NAME_PATTERN.test(name));
    expect([...RESERVED_AGENT_NAMES].sort()).toEqual(inherited.sort());
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { agentSignalSchema } from '../src/contract/agent-signal';
import { parseOrThrow, ValidationError } from '../src/contract/errors';
import { renderJsonSchemas } from '../src/contract/json-schemas';
import { REPO_ROOT } from './support/paths';

const SCHEMA_DIR = join(REPO_ROOT, 'schemas');
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const load = (file: string) => ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')));
const correlationState = load('correlation_state.schema.json');
const decision = load('orchestration_decision.schema.json');
const agentSignal = load('agent_signal.schema.json');

describe('JSON Schema files', () => {
  it('match the zod definitions they are generated from (run `npm run schemas` after changing src/contract)', () => {
    for (const [file, content] of Object.entries(renderJsonSchemas())) {
      expect({ file, content: readFileSync(join(SCHEMA_DIR, file), 'utf8') }).toEqual({ file, content });
    }
  });
});

describe('correlation state contract', () => {
  const momentumOutput = {
    agent_name: 'momentum',
    corr_id: 'test_001',
    enriched_at: '2024-01-15T10:30:00Z',
    analysis: { confidence: 0.8 },
  };

  it('accepts a collecting state with its metadata', () => {
    const state = {
      corr_id: 'test_001',
      status: 'collecting',
      signals: { momentum: momentumOutput },
      metadata: {
        created_at: '2024-01-15T10:29:00Z',
        expected_agents: ['momentum', 'risk'],
        timeout_at: '2024-01-15T10:34:00Z',
      },
    };
    expect(correlationState(state)).toBe(true);
  });

  it('rejects an unknown status and a missing metadata block', () => {
    expect(correlationState({ corr_id: 'test_002', status: 'invalid_status', signals: {} })).toBe(false);
    const fields = correlationState.errors?.map((e) => `${e.instancePath} ${e.message}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        '/status must be equal to one of the allowed values',
        " must have required property 'metadata'",
      ]),
    );
  });

  it('still accepts a v1.0.0 state with only corr_id, status, signals and created_at', () => {
    expect(
      correlationState({
        corr_id: 'test_004',
        status: 'completed',
        signals: {},
        metadata: { created_at: '2024-01-15T10:30:00Z' },
      }),
    ).toBe(true);
  });

  it('accepts agent output wrapped in a state, version fields included', () => {
    const agentOutput = {
      schema_version: '1.0.0',
      agent_version: '1.2.1',
      ...momentumOutput,
      corr_id: 'test_005',
      analysis: { momentum_strength: 0.75, confidence: 0.82 },
    };
    expect(agentSignal(agentOutput)).toBe(true);
    const state = {
      corr_id: 'test_005',
      status: 'collecting',
      signals: { momentum: agentOutput },
      metadata: {
        created_at: '2024-01-15T10:29:00Z',
        expected_agents: ['momentum'],
        timeout_at: '2024-01-15T10:34:00Z',
      },
    };
    expect(correlationState(state)).toBe(true);
  });

  it('rejects a state whose signal breaks the agent signal contract', () => {
    const state = {
      corr_id: 'x',
      status: 'collecting',
      signals: { momentum: { ...momentumOutput, analysis: { confidence: 1.5 } } },
      metadata: { created_at: '2024-01-15T10:29:00Z' },
    };
    expect(correlationState(state)).toBe(false);
  });
});

describe('orchestration decision contract', () => {
  it('accepts a v1.0.0 decision with only the original fields', () => {
    expect(
      decision({
        corr_id: 'test_003',
        orchestrator_version: '1.0.0',
        orchestrated_at: '2024-01-15T10:30:00Z',
        source_signals: { momentum: 0.75, risk: 0.65 },
        decision: { action: 'trade', confidence: 0.78, reasoning: 'high_momentum_acceptable_risk' },
      }),
    ).toBe(true);
  });

  it('accepts a 0.2.0 decision with degraded_agents and a decisive early decision, and a reader of the v1.0.0 fields still finds them', () => {
    const degraded = {
      corr_id: 'test_004',
      orchestrator_version: '0.2.0',
      orchestrated_at: '2026-12-04T10:30:00Z',
      source_signals: { momentum: 0.9 },
      decision: { action: 'trade', confidence: 0.72, reasoning: 'high_momentum_acceptable_risk' },
      missing_agents: ['risk'],
      partial_data: true,
      degraded_agents: ['risk'],
      decided_early: { rule: 'decisive_signal', detail: 'risk_blocked: risk reported risk_level blocked' },
    };
    expect(decision(degraded)).toBe(true);
    // A consumer that validates with the schema of 0.1.0 (kept as it was published) still accepts it.
    const published = JSON.parse(
      readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'contract', 'orchestration_decision.0.1.0.schema.json'), 'utf8'),
    );
    expect(addFormats(new Ajv2020({ strict: false })).validate({ ...published, $id: 'old-consumer' }, degraded)).toBe(
      true,
    );
    expect(decision({ ...degraded, degraded_agents: ['Not An Agent!'] })).toBe(false);
  });

  it('rejects an unknown action and a confidence outside [0, 1]', () => {
    const base = {
      corr_id: 'c',
      orchestrator_version: '1',
      orchestrated_at: '2024-01-15T10:30:00Z',
      source_signals: {},
    };
    expect(decision({ ...base, decision: { action: 'yolo', confidence: 0.5, reasoning: 'r' } })).toBe(false);
    expect(decision({ ...base, decision: { action: 'trade', confidence: 1.2, reasoning: 'r' } })).toBe(false);
  });
});

describe('agent signal validation', () => {
  const valid = { agent_name: 'momentum', corr_id: 'c-1', analysis: { confidence: 0.5 } };

  it('defaults schema_version to 1.0.0 and passes unknown fields and agents through', () => {
    const parsed = agentSignalSchema.parse({
      ...valid,
      extra: { nested: true },
      analysis: { confidence: 0.5, custom_metric: 42 },
    });
    expect(parsed).toMatchObject({ schema_version: '1.0.0', extra: { nested: true }, analysis: { custom_metric: 42 } });
    expect(agentSignalSchema.parse({ ...valid, agent_name: 'sentiment', analysis: { mood: 'up' } }).analysis).toEqual({
      mood: 'up',
    });
  });

  it.each([
    ['analysis.confidence', { ...valid, analysis: { confidence: Number.NaN } }],
    ['analysis.confidence', { ...valid, analysis: { confidence: 1.01 } }],
    ['analysis.overall_score', { ...valid, analysis: { overall_score: Number.POSITIVE_INFINITY } }],
    ['analysis.risk_level', { ...valid, analysis: { risk_level: 'extreme' } }],
    ['agent_name', { ...valid, agent_name: 'Momentum!' }],
    ['corr_id', { ...valid, corr_id: 'has space' }],
    ['corr_id', { ...valid, corr_id: 'x'.repeat(129) }],
    ['analysis', { agent_name: 'momentum', corr_id: 'c' }],
    ['schema_version', { ...valid, schema_version: '2.0.0' }],
    ['enriched_at', { ...valid, enriched_at: 'yesterday' }],
  ])('rejects a bad %s and names it', (field, input) => {
    const error = (() => {
      try {
        parseOrThrow(agentSignalSchema, input, 'agent signal');
      } catch (e) {
        return e;
      }
      throw new Error('expected a validation error');
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fields).toContain(field);
    expect((error as ValidationError).message).toContain(`${field}:`);
    // The JSON Schema file agrees (JSON turns NaN and Infinity into null, which it rejects too).
    expect(agentSignal(JSON.parse(JSON.stringify(input)))).toBe(false);
  });
});

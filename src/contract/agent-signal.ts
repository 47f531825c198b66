import { z } from 'zod';

/** Agent names double as the last token of their NATS subject, so they must be subject-safe. */
export const AGENT_NAME_PATTERN = /^[a-z0-9_-]{1,64}$/;
/** Correlation ids become part of a workflow id (`corr-<corr_id>`) and a Nats-Msg-Id. */
export const CORR_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const SEMVER_PATTERN = /^\d+\.\d+\.\d+$/;
/** Only this major version of the agent signal format is understood. */
const SUPPORTED_SCHEMA_MAJOR = 1;

/**
 * Names that match the pattern but are properties of every plain object: the workflow and the
 * decision rules look agents up in plain objects (`agent in signals`, `weights[agent]`), where an
 * agent named `constructor` would count as already reported and weigh `Object` (NaN confidence).
 */
export const RESERVED_AGENT_NAMES = ['__proto__', 'constructor'] as const;
// One pattern (not a refinement), so that the JSON Schema says it too.
const AGENT_NAME_NOT_RESERVED = new RegExp(
  `^(?!(?:${RESERVED_AGENT_NAMES.join('|')})$)${AGENT_NAME_PATTERN.source.slice(1)}`,
);

export const agentNameSchema = z
  .string()
  .regex(AGENT_NAME_NOT_RESERVED, `must match [a-z0-9_-]{1,64} and not be ${RESERVED_AGENT_NAMES.join(' or ')}`);
export const corrIdSchema = z.string().regex(CORR_ID_PATTERN, 'must be 1-128 characters of [A-Za-z0-9._:-]');
export const unitIntervalSchema = z.number().min(0).max(1);
export const isoDateTimeSchema = z.iso.datetime({ offset: true });

export const TREND_DIRECTIONS = ['bullish', 'bearish', 'neutral'] as const;
export const RISK_LEVELS = ['low', 'medium', 'high', 'blocked'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/**
 * What an agent concluded. The fields the momentum and risk agents are known to send are typed,
 * whichever agent sends them; every other field passes through untouched.
 */
const analysisSchema = z.looseObject({
  trend_direction: z.enum(TREND_DIRECTIONS).optional(),
  momentum_strength: unitIntervalSchema.optional(),
  confidence: unitIntervalSchema.optional(),
  risk_level: z.enum(RISK_LEVELS).optional(),
  /** Higher is riskier. */
  overall_score: unitIntervalSchema.optional(),
  position_sizing: z.looseObject({ recommended_size: z.number().nonnegative().optional() }).optional(),
});

export const agentSignalSchema = z
  .looseObject({
    schema_version: z
      .string()
      .regex(SEMVER_PATTERN, 'must be a semantic version such as 1.0.0')
      .regex(
        new RegExp(`^${SUPPORTED_SCHEMA_MAJOR}\\.`),
        `unsupported schema version: this orchestrator reads ${SUPPORTED_SCHEMA_MAJOR}.x.y`,
      )
      .default('1.0.0'),
    agent_name: agentNameSchema,
    agent_version: z.string().max(64).optional(),
    corr_id: corrIdSchema,
    enriched_at: isoDateTimeSchema.optional(),
    source_signal: z.looseObject({ instrument: z.string().max(64).optional() }).optional(),
    analysis: analysisSchema,
  })
  .meta({
    title: 'AgentSignal',
    description: 'One enriched analysis published by an agent on signals.enriched.<agent_name>.',
  });

export type Analysis = z.output<typeof analysisSchema>;
export type AgentSignal = z.output<typeof agentSignalSchema>;

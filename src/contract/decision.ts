import { z } from 'zod';
import { agentNameSchema, corrIdSchema, isoDateTimeSchema, unitIntervalSchema } from './agent-signal';

export const ACTIONS = ['trade', 'no_trade', 'monitor', 'reduce_size', 'insufficient_data'] as const;
export type Action = (typeof ACTIONS)[number];

/** Where one input of a decision came from, so a decision can be traced to exactly its inputs. */
const provenanceEntrySchema = z.looseObject({
  agent: agentNameSchema,
  agent_version: z.string().optional(),
  /** JetStream stream sequence of the message, or the id the sender gave it. */
  message_id: z.string().min(1),
  /** When the orchestrator received the signal. */
  arrived_at: isoDateTimeSchema,
});

/**
 * Why a correlation decided before its expected agents were all in: the rule that fired
 * (`signal_limit`: the run took as many messages as the policy allows) and what it saw.
 */
const earlyDecisionSchema = z.looseObject({
  rule: z.string().min(1),
  detail: z.string().optional(),
});

/**
 * Readers' contract for `orchestrated.decision`. Only the fields decisions have always carried are
 * required, so v1.0.0 decisions still validate; this orchestrator always fills in every field
 * (see `completeDecisionSchema`).
 */
export const orchestrationDecisionSchema = z
  .looseObject({
    corr_id: corrIdSchema,
    orchestrator_version: z.string().min(1),
    orchestrated_at: isoDateTimeSchema,
    /** Each agent's headline score: momentum's confidence (or strength), risk's overall_score. */
    source_signals: z.record(z.string(), z.number()),
    decision: z.looseObject({
      action: z.enum(ACTIONS),
      confidence: unitIntervalSchema,
      /** Machine-readable reason, e.g. `risk_blocked`. */
      reasoning: z.string().min(1),
    }),
    route: z.string().min(1).optional(),
    /** Agents whose signals shaped the decision, sorted. */
    contributing_agents: z.array(agentNameSchema).optional(),
    /** Agents that reported before the decision, sorted. */
    available_agents: z.array(agentNameSchema).optional(),
    /** Expected agents that had not reported when the decision was made, sorted. */
    missing_agents: z.array(agentNameSchema).optional(),
    partial_data: z.boolean().optional(),
    aggregation_method: z.string().optional(),
    policy_version: z.string().optional(),
    provenance: z.array(provenanceEntrySchema).optional(),
    /** Set on a decision made by re-driving an earlier run of the correlation. */
    redrive_of: z.looseObject({ workflow_id: z.string().min(1), run_id: z.string().min(1) }).optional(),
    /** Set when the correlation decided before every expected agent had reported, and says why. */
    decided_early: earlyDecisionSchema.optional(),
    /**
     * Missing agents the correlation did not wait for, because their circuit breaker was open
     * (they had missed their deadline in too many correlations in a row); sorted. The decision is
     * then partial.
     */
    degraded_agents: z.array(agentNameSchema).optional(),
  })
  .meta({ title: 'OrchestrationDecision', description: 'One decision per correlation, on orchestrated.decision.' });

export const completeDecisionSchema = orchestrationDecisionSchema.required({
  route: true,
  contributing_agents: true,
  available_agents: true,
  missing_agents: true,
  partial_data: true,
  aggregation_method: true,
  policy_version: true,
  provenance: true,
});

export type ProvenanceEntry = z.output<typeof provenanceEntrySchema>;
export type EarlyDecision = z.output<typeof earlyDecisionSchema>;
export type OrchestrationDecision = z.output<typeof completeDecisionSchema>;

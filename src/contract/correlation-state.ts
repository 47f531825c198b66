import { z } from 'zod';
import { agentNameSchema, agentSignalSchema, corrIdSchema, isoDateTimeSchema } from './agent-signal';
import { orchestrationDecisionSchema } from './decision';

export const CORRELATION_STATUSES = ['collecting', 'deciding', 'completed', 'timed_out', 'failed'] as const;
export type CorrelationStatus = (typeof CORRELATION_STATUSES)[number];

const receiptSchema = z.looseObject({
  message_id: z.string().min(1),
  arrived_at: isoDateTimeSchema,
});

/**
 * What a correlation looks like at any moment (the workflow's `state` query). A v1.0.0 state with
 * only corr_id, status, signals and metadata.created_at still validates.
 */
export const correlationStateSchema = z
  .looseObject({
    corr_id: corrIdSchema,
    status: z.enum(CORRELATION_STATUSES),
    /** The first signal each agent sent, by agent name. */
    signals: z.record(agentNameSchema, agentSignalSchema),
    metadata: z.looseObject({
      created_at: isoDateTimeSchema,
      expected_agents: z.array(agentNameSchema).optional(),
      /** When the partial-data timer fires. */
      timeout_at: isoDateTimeSchema.optional(),
      min_agents_threshold: z.number().int().min(1).optional(),
      policy_version: z.string().optional(),
    }),
    /** Which message each kept signal came from and when it arrived, by agent name. */
    receipts: z.record(agentNameSchema, receiptSchema).optional(),
    /** Redeliveries and repeated messages that were ignored. */
    duplicates: z.number().int().nonnegative().optional(),
    /** Signals that arrived after the decision: counted, and the first few kept. */
    late_count: z.number().int().nonnegative().optional(),
    late_signals: z.array(receiptSchema.extend({ agent_name: z.string() })).optional(),
    /** Signals the workflow refused (wrong correlation, malformed, too many agents). */
    rejected_count: z.number().int().nonnegative().optional(),
    decision: orchestrationDecisionSchema.optional(),
  })
  .meta({ title: 'CorrelationState', description: 'The state of one correlation, readable by a workflow query.' });

export type CorrelationState = z.output<typeof correlationStateSchema>;

/** The JSON Schema files under schemas/, generated from the zod definitions (the source of truth). */
import { z } from 'zod';
import { agentSignalSchema } from './agent-signal';
import { correlationStateSchema } from './correlation-state';
import { orchestrationDecisionSchema } from './decision';
import { policySchema } from './policy';

const SCHEMAS: Record<string, z.ZodType> = {
  'agent_signal.schema.json': agentSignalSchema,
  'correlation_state.schema.json': correlationStateSchema,
  'orchestration_decision.schema.json': orchestrationDecisionSchema,
  'policy.schema.json': policySchema,
};

/** File name → file content, exactly as committed. Input shape: what a producer may send. */
export function renderJsonSchemas(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(SCHEMAS).map(([file, schema]) => {
      const json = { $id: file, ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) };
      return [file, `${JSON.stringify(json, null, 2)}\n`];
    }),
  );
}

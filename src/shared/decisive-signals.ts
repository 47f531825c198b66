/**
 * Which of a policy's decisive signals a message matches: the rule the correlation workflow applies
 * when deciding whether to stop waiting, and that the rules apply when deciding on what it has.
 * Pure and free of Node modules, so workflow code can use it.
 */
import type { AgentSignal } from '../contract/agent-signal';
import type { DecisiveSignal } from '../contract/policy';

/** `decided_early.rule` of a decision a decisive signal made. */
export const DECISIVE_SIGNAL_RULE = 'decisive_signal';

/** The first decisive rule the signal matches, with what it saw, or undefined. */
export function decisiveMatch(
  signal: AgentSignal,
  rules: readonly DecisiveSignal[] | undefined,
): { name: string; detail: string } | undefined {
  for (const rule of rules ?? []) {
    if (rule.agent !== signal.agent_name) continue;
    const seen: string[] = [];
    const holds = Object.entries(rule.when).every(([field, values]) => {
      const value = (signal.analysis as Record<string, unknown>)[field];
      seen.push(`${field} ${String(value)}`);
      return (values as readonly unknown[] | undefined)?.includes(value) ?? true;
    });
    if (holds) return { name: rule.name, detail: `${rule.name}: ${rule.agent} reported ${seen.join(', ')}` };
  }
  return undefined;
}

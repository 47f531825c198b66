import { z } from 'zod';
import { agentNameSchema, RISK_LEVELS, TREND_DIRECTIONS, unitIntervalSchema } from './agent-signal';
import { ACTIONS } from './decision';

const regexSource = z.string().refine(
  (source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a valid regular expression' },
);

/** A named route and the conditions under which it applies; every condition given must hold. */
const routeRuleSchema = z.strictObject({
  name: z.string().min(1),
  when: z.strictObject({
    /** The instrument's class, from `instrument_classes`. */
    instrument_class: z.array(z.string().min(1)).min(1).optional(),
    risk_level: z.array(z.enum(RISK_LEVELS)).min(1).optional(),
    /** Momentum's `momentum_strength` must be at least this. */
    min_momentum_strength: unitIntervalSchema.optional(),
    action: z.array(z.enum(ACTIONS)).min(1).optional(),
  }),
});

/** How long a correlation waits for one expected agent, and whether its decision needs that agent. */
const agentWaitSchema = z.strictObject({
  /** From the correlation's first signal; the shared `timeout_ms` when unset, never more. */
  deadline_ms: z.number().int().positive().optional(),
  /** An optional agent's absence makes no decision partial and does not count against `min_agents_threshold`. */
  optional: z.boolean().default(false),
});

/**
 * A signal that settles the outcome by itself: when one arrives the correlation decides at once on
 * what it has, and the decision says which rule fired (`decided_early.rule: decisive_signal`).
 * Every condition given must hold.
 */
const decisiveSignalSchema = z.strictObject({
  name: z.string().min(1),
  agent: agentNameSchema,
  when: z
    .strictObject({
      risk_level: z.array(z.enum(RISK_LEVELS)).min(1).optional(),
      trend_direction: z.array(z.enum(TREND_DIRECTIONS)).min(1).optional(),
    })
    .refine((when) => Object.keys(when).length > 0, {
      message: 'needs at least one condition (risk_level, trend_direction)',
    }),
});

/**
 * A circuit breaker per agent, shared by every correlation on the task queue: after
 * `failure_threshold` correlations in a row decided without the agent (it missed its deadline),
 * new correlations stop waiting for it and mark their decisions `degraded_agents`; after
 * `reset_after_ms` the next correlations wait for it again (half-open), and a signal from it
 * closes the breaker.
 */
const breakerSchema = z.strictObject({
  enabled: z.boolean().default(true),
  failure_threshold: z.number().int().min(1).default(5),
  reset_after_ms: z.number().int().positive().default(60_000),
});

const DEFAULT_DECISIVE_SIGNALS = [{ name: 'risk_blocked', agent: 'risk', when: { risk_level: ['blocked' as const] } }];
const DEFAULT_BREAKER = { enabled: true, failure_threshold: 5, reset_after_ms: 60_000 };

/**
 * Everything that shapes a decision, as versioned data. The workflow records the policy it used,
 * so a policy change never alters a correlation already in flight.
 */
export const policySchema = z
  .strictObject({
    /** Recorded on every decision as `policy_version`. */
    version: z.string().min(1),
    /** Agents a correlation waits for. */
    expected_agents: z.array(agentNameSchema).min(1).default(['momentum', 'risk']),
    /** Partial-data timeout in milliseconds, counted from the correlation's first signal. */
    timeout_ms: z
      .number()
      .int()
      .positive()
      .default(5 * 60_000),
    /**
     * Per expected agent: its own deadline, and whether it is optional. Unlisted agents wait until `timeout_ms` and are
     * required.
     */
    agents: z.record(agentNameSchema, agentWaitSchema).default({}),
    /**
     * Signals that decide the correlation at once (by default: risk `blocked`, which means `no_trade` whatever else
     * reports).
     */
    decisive_signals: z.array(decisiveSignalSchema).default(DEFAULT_DECISIVE_SIGNALS),
    /** The circuit breaker per agent (on by default). */
    breaker: breakerSchema.default(DEFAULT_BREAKER),
    /**
     * Expected agents that must have reported for a decision on partial data at the timeout.
     * Defaults to all required (non-optional) ones: a timeout then decides `insufficient_data`.
     */
    min_agents_threshold: z.number().int().min(1).optional(),
    /** Most distinct agents one correlation keeps; more are refused, so an actor stays bounded. */
    max_agents: z.number().int().min(1).max(256).default(16),
    /**
     * Most agent messages one correlation takes, duplicates included. The one that reaches it makes
     * the correlation decide at once on what it has (`decided_early.rule: signal_limit`), and later
     * ones are refused, so an agent stuck in a loop cannot grow a run's history towards Temporal's limits.
     */
    max_signals: z.number().int().min(1).max(10_000).default(200),
    /** Weight of each agent in the confidence score; agents not listed get `default_weight`. */
    weights: z.record(agentNameSchema, z.number().nonnegative()).default({ momentum: 0.5, risk: 0.5 }),
    default_weight: z.number().nonnegative().default(0),
    /** Share of confidence taken off a decision made on partial data. */
    partial_data_penalty: unitIntervalSchema.default(0.2),
    thresholds: z
      .strictObject({
        trade_min_confidence: unitIntervalSchema.default(0.55),
        monitor_min_confidence: unitIntervalSchema.default(0.35),
        /** Risk score from which a signal counts as high risk. */
        high_risk_score: unitIntervalSchema.default(0.8),
        /** Momentum confidence from which momentum and high risk conflict (→ reduce_size). */
        strong_momentum: unitIntervalSchema.default(0.7),
      })
      .default({
        trade_min_confidence: 0.55,
        monitor_min_confidence: 0.35,
        high_risk_score: 0.8,
        strong_momentum: 0.7,
      }),
    /** Risk score assumed from `risk_level` when the risk agent gives no `overall_score`. */
    risk_level_scores: z
      .strictObject({
        low: unitIntervalSchema,
        medium: unitIntervalSchema,
        high: unitIntervalSchema,
        blocked: unitIntervalSchema,
      })
      .default({ low: 0.2, medium: 0.5, high: 0.8, blocked: 1 }),
    /** Instrument classes, tried in order; the first pattern that matches names the class. */
    instrument_classes: z.array(z.strictObject({ name: z.string().min(1), pattern: regexSource })).default([
      { name: 'crypto', pattern: '^(BTC|ETH|SOL|XRP|ADA|DOGE|LTC|DOT|AVAX)[/-]?[A-Z]{3,4}$' },
      { name: 'forex', pattern: '^[A-Z]{3}/?[A-Z]{3}$' },
    ]),
    /** Routes, tried in order; the first whose conditions all hold wins. */
    routes: z.array(routeRuleSchema).default([
      { name: 'crypto_high_risk', when: { instrument_class: ['crypto'], risk_level: ['high', 'blocked'] } },
      {
        name: 'forex_momentum',
        when: { instrument_class: ['forex'], min_momentum_strength: 0.7, risk_level: ['low', 'medium'] },
      },
    ]),
    /** Route for everything no rule matches. */
    default_route: z.string().min(1).default('standard'),
  })
  .superRefine((policy, ctx) => {
    if (new Set(policy.expected_agents).size !== policy.expected_agents.length) {
      ctx.addIssue({ code: 'custom', path: ['expected_agents'], message: 'must not repeat an agent' });
    }
    if (policy.min_agents_threshold !== undefined && policy.min_agents_threshold > policy.expected_agents.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_agents_threshold'],
        message: `must be at most the number of expected agents (${policy.expected_agents.length})`,
      });
    }
    for (const [agent, wait] of Object.entries(policy.agents)) {
      if (!policy.expected_agents.includes(agent)) {
        ctx.addIssue({
          code: 'custom',
          path: ['agents', agent],
          message: `"${agent}" is not one of expected_agents (${policy.expected_agents.join(', ')})`,
        });
      }
      if (wait.deadline_ms !== undefined && wait.deadline_ms > policy.timeout_ms) {
        ctx.addIssue({
          code: 'custom',
          path: ['agents', agent, 'deadline_ms'],
          message: `must not exceed timeout_ms (${policy.timeout_ms})`,
        });
      }
    }
    if (policy.expected_agents.length > policy.max_agents) {
      ctx.addIssue({ code: 'custom', path: ['max_agents'], message: 'must be at least the number of expected agents' });
    }
    if (policy.thresholds.monitor_min_confidence > policy.thresholds.trade_min_confidence) {
      ctx.addIssue({
        code: 'custom',
        path: ['thresholds', 'monitor_min_confidence'],
        message: 'must not exceed thresholds.trade_min_confidence',
      });
    }
    const classes = new Set(policy.instrument_classes.map((c) => c.name));
    policy.routes.forEach((route, i) => {
      for (const name of route.when.instrument_class ?? []) {
        if (!classes.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'when', 'instrument_class'],
            message: `unknown instrument class "${name}"; define it in instrument_classes`,
          });
        }
      }
    });
  })
  .transform((policy) => ({
    ...policy,
    min_agents_threshold:
      policy.min_agents_threshold ??
      Math.max(1, policy.expected_agents.filter((agent) => !policy.agents[agent]?.optional).length),
  }));

export type PolicyInput = z.input<typeof policySchema>;
export type Policy = z.output<typeof policySchema>;
export type DecisiveSignal = z.output<typeof decisiveSignalSchema>;
export type BreakerSettings = z.output<typeof breakerSchema>;

/** The PromQL metric-name extractor the metrics-exist test relies on, and what it finds in deploy/monitoring. */
import { exportedSampleNames, metricNamesIn } from './metric-names';
import { alertingRules, dashboardExpressions } from './monitoring-files';

describe('metricNamesIn', () => {
  it.each([
    ['a bare selector', 'process_resident_memory_bytes', ['process_resident_memory_bytes']],
    [
      'label matchers, Grafana variables and a rate interval',
      'sum by (outcome) (rate(orchestrator_signals_received_total{job="$job", namespace=~"$namespace"}[$__rate_interval]))',
      ['orchestrator_signals_received_total'],
    ],
    [
      'a histogram quantile: the _bucket series, not `le`',
      'histogram_quantile(0.95, sum by (agent, le) (rate(x_seconds_bucket[5m])))',
      ['x_seconds_bucket'],
    ],
    [
      'vector matching with its label lists',
      'sum by (namespace, agent) (rate(missing_total[15m])) / on (namespace) group_left (route) sum by (namespace) (rate(decisions_total[15m])) > 0.2',
      ['missing_total', 'decisions_total'],
    ],
    [
      'ignoring, and a label value that looks like a name',
      'a_total{reason!="late"} / ignoring (agent) group_right b_total',
      ['a_total', 'b_total'],
    ],
    ['set operators, bool and a name repeated', 'x > 100 and deriv(x[10m]) > bool 0 or y unless z', ['x', 'y', 'z']],
    ['absent_over_time and an offset', 'absent_over_time(up{job="orchestrator-metrics"}[3m] offset 5m)', ['up']],
    ['aggregation with the label list after it', 'sum(rate(requests_total[1m])) by (code) * 1e3', ['requests_total']],
    [
      'a subquery and a function of no metric',
      'max_over_time(rate(c_total[1m])[10m:1m]) + time() - vector(1)',
      ['c_total'],
    ],
    ['names with colons (recording rules)', 'job:requests:rate5m', ['job:requests:rate5m']],
  ])('%s', (_, expr, names) => {
    expect(metricNamesIn(expr)).toEqual(names);
  });
});

describe('exportedSampleNames', () => {
  it("names each sample: a histogram's _bucket, _sum and _count, a counter with its _total, no comment", () => {
    const exposition = [
      '# HELP latency_seconds From first signal to decision.',
      '# TYPE latency_seconds histogram',
      'latency_seconds_bucket{le="0.5"} 1',
      'latency_seconds_bucket{le="+Inf"} 1',
      'latency_seconds_sum 0.2',
      'latency_seconds_count 1',
      '# TYPE signals_total counter',
      'signals_total{outcome="signalled"} 2',
      'temporal_num_pollers{poller_type="workflow_task"} 2',
      'up 1',
      '',
    ].join('\n');
    expect([...exportedSampleNames(exposition)].sort()).toEqual(
      [
        'latency_seconds_bucket',
        'latency_seconds_count',
        'latency_seconds_sum',
        'signals_total',
        'temporal_num_pollers',
        'up',
      ].sort(),
    );
  });
});

describe('deploy/monitoring', () => {
  it('queries these metrics: the names the processes must export (test/monitoring/metrics-exist.test.ts)', () => {
    const names = new Set([...dashboardExpressions(), ...alertingRules().map((r) => r.expr)].flatMap(metricNamesIn));
    expect([...names].sort()).toEqual([
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_total_bytes',
      'nodejs_heap_size_used_bytes',
      'orchestrator_agent_arrival_seconds_bucket',
      'orchestrator_agent_breaker_consecutive_misses',
      'orchestrator_agent_breaker_state',
      'orchestrator_agent_missing_total',
      'orchestrator_decision_latency_seconds_bucket',
      'orchestrator_decision_latency_seconds_count',
      'orchestrator_decisions_total',
      'orchestrator_signals_consumer_ack_pending_messages',
      'orchestrator_signals_consumer_pending_messages',
      'orchestrator_signals_dlq_total',
      'orchestrator_signals_received_total',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'temporal_num_pollers',
      'temporal_sticky_cache_size',
      'temporal_worker_task_slots_available',
      'temporal_worker_task_slots_used',
      'temporal_workflow_task_schedule_to_start_latency_bucket',
    ]);
  });
});

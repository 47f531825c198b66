/**
 * The workflow side of tracing, bundled into the workflow code when tracing is on
 * (src/observability/tracing.ts): the SDK's OpenTelemetry interceptors, for the correlation
 * workflows. Their run continues the trace of the start, each signal the trace of its
 * signal-with-start, and each activity the run's. The agents' circuit breakers run for ever on
 * housekeeping signals and queries, none of them part of a trace: they get no interceptors.
 * Runs in the workflow sandbox: deterministic, workflow-safe imports only.
 */
import { interceptors as openTelemetryInterceptors } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';
import { workflowInfo, type WorkflowInterceptors } from '@temporalio/workflow';
import { BREAKER_WORKFLOW_TYPE } from '../shared/agent-breaker-api';

export const interceptors = (): WorkflowInterceptors =>
  workflowInfo().workflowType === BREAKER_WORKFLOW_TYPE ? {} : openTelemetryInterceptors();

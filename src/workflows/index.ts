export { correlationWorkflow } from './correlation-workflow';
export {
  correlationWorkflowV2,
  correlationWorkflowV3,
  correlationWorkflowV4,
  correlationWorkflowV5,
} from './batched-correlation';
export { agentBreakerWorkflow } from './agent-breaker-workflow';

export { correlationWorkflow } from './correlation-workflow';
export { correlationWorkflowV2, correlationWorkflowV3 } from './batched-correlation';

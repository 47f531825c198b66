export { correlationWorkflow } from './correlation-workflow';
export { correlationWorkflowV2, correlationWorkflowV3, correlationWorkflowV4 } from './batched-correlation';

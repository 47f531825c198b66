export { correlationWorkflow } from './correlation-workflow';
export { correlationWorkflowV2 } from './correlation-workflow-v2';

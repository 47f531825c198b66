export { correlationWorkflow } from './correlation-workflow';

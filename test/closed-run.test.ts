/** The fate of a message for a correlation that has closed (the bridge's rule, on its own). */
import { type ClosedRun, fateAfterClose } from '../src/bridge/closed-run';

const used = {
  schema_version: '1.0.0',
  agent_name: 'risk',
  corr_id: 'c1',
  analysis: { risk_level: 'low', overall_score: 0.1 },
};

/** A closed run that received `used` as message 7 (its content key spelled by hand, keys sorted). */
const run: ClosedRun = {
  received: new Set(['7']),
  receivedContent: new Set([
    '{"agent_name":"risk","analysis":{"overall_score":0.1,"risk_level":"low"},"corr_id":"c1","schema_version":"1.0.0"}',
  ]),
};

describe('fateAfterClose', () => {
  it.each([
    ['a redelivery of a message the run received: duplicate', '7', used, 'duplicate'],
    ['a redelivery, whatever its content: duplicate', '7', { ...used, analysis: { risk_level: 'high' } }, 'duplicate'],
    ['the same content under a new message id: duplicate', '12', used, 'duplicate'],
    [
      'the same content with its keys in another order: duplicate',
      '12',
      {
        corr_id: 'c1',
        analysis: { overall_score: 0.1, risk_level: 'low' },
        agent_name: 'risk',
        schema_version: '1.0.0',
      },
      'duplicate',
    ],
    [
      'new content from an agent the run heard: late',
      '12',
      { ...used, analysis: { risk_level: 'high', overall_score: 0.9 } },
      'late',
    ],
    ['a message from an agent the run never heard: late', '13', { ...used, agent_name: 'momentum' }, 'late'],
  ])('%s', (_, messageId, signal, fate) => {
    expect(fateAfterClose(run, messageId, signal)).toBe(fate);
  });
});

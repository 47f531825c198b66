import { parseAgentMessage } from '../src/bridge/parse';
import { momentum } from './support/signals';

const encode = (value: unknown): Uint8Array =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const LIMIT = 64 * 1024;

describe('parseAgentMessage', () => {
  it('accepts a valid signal on its own subject, with defaults applied', () => {
    const { schema_version, ...withoutVersion } = momentum('c-1');
    const result = parseAgentMessage('signals.enriched.momentum', encode(withoutVersion), LIMIT);
    expect(result).toEqual({ ok: true, signal: { ...withoutVersion, schema_version: '1.0.0' } });
  });

  it.each([
    ['oversize', encode({ ...momentum('c'), analysis: { pad: 'x'.repeat(LIMIT) } }), /bytes; the limit is 65536/],
    ['not_json', encode('{"agent_name":'), /JSON/],
    ['not_json', new Uint8Array([0xc3, 0x28]), /encoded data was not valid/],
    ['schema_violation', encode({ ...momentum('c'), analysis: { confidence: 'high' } }), /analysis\.confidence/],
    ['schema_violation', encode({ ...momentum('c'), corr_id: '' }), /corr_id/],
    [
      'unsupported_schema_version',
      encode({ ...momentum('c'), schema_version: '2.1.0' }),
      /schema_version: unsupported schema version/,
    ],
    ['subject_mismatch', encode(momentum('c')), /subject signals\.enriched\.risk but agent_name "momentum"/],
  ])('refuses %s with a detail that says why', (reason, data, detail) => {
    const result = parseAgentMessage(
      reason === 'subject_mismatch' ? 'signals.enriched.risk' : 'signals.enriched.momentum',
      data,
      LIMIT,
    );
    expect(result).toMatchObject({ ok: false, reason });
    expect(result.ok === false && result.detail).toMatch(detail);
  });
});

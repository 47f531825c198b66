import { escapeXml, niceStep, renderChart } from '../../src/bench/svg';
import { findAll, parseXml } from './xml';

const t = Array.from({ length: 60 }, (_, i) => i + 1);

describe('bench chart (SVG)', () => {
  const svg = renderChart({
    title: 'orchestrator: 5000 signals/min & more <test>',
    subtitle: 'momentum+risk, 10 % partial',
    t,
    panels: [
      {
        title: 'throughput (per second)',
        lines: [
          { name: 'decisions/s', values: t.map((s) => 40 + (s % 5)) },
          { name: 'correlations started/s', values: t.map(() => 42), dashed: true },
        ],
      },
      { title: 'p95 latency (ms)', lines: [{ name: 'p95 ms', values: t.map((s) => (s % 10 === 0 ? null : 150 + s)) }] },
      {
        title: 'RSS (MB)',
        lines: [
          { name: 'worker', values: t.map((s) => 200 + s) },
          { name: 'bridge', values: t.map(() => null) },
        ],
      },
    ],
    markers: [{ t: 30, label: 'load ends' }],
  });

  it('is well-formed XML with an svg root', () => {
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
  });

  it('draws one path per series, in its panel, with gaps where a value is missing', () => {
    const root = parseXml(svg);
    const paths = findAll(root, (e) => e.name === 'path');
    expect(paths.map((p) => p.attributes['data-series'])).toEqual([
      'decisions/s',
      'correlations started/s',
      'p95 ms',
      'worker',
      'bridge',
    ]);
    const panels = findAll(root, (e) => e.name === 'g' && 'data-panel' in e.attributes).map(
      (g) => g.attributes['data-panel'],
    );
    expect(panels).toEqual(['throughput (per second)', 'p95 latency (ms)', 'RSS (MB)']);
    const decisions = paths[0].attributes.d;
    expect(decisions.match(/[ML]/g)).toHaveLength(60);
    expect(decisions.startsWith('M')).toBe(true);
    // p95 has a null every 10 s: the pen lifts, so the line restarts with a move after each gap.
    expect(paths[2].attributes.d.match(/M/g)).toHaveLength(6);
    expect(paths[2].attributes.d.match(/[ML]/g)).toHaveLength(54);
    // Every point lies inside the drawing.
    const width = Number(root.attributes.width);
    const height = Number(root.attributes.height);
    for (const [, x, y] of decisions.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)) {
      expect(Number(x)).toBeGreaterThanOrEqual(0);
      expect(Number(x)).toBeLessThanOrEqual(width);
      expect(Number(y)).toBeGreaterThanOrEqual(0);
      expect(Number(y)).toBeLessThanOrEqual(height);
    }
  });

  it('escapes text, and names each series in a legend', () => {
    expect(svg).toContain('orchestrator: 5000 signals/min &amp; more &lt;test&gt;');
    const texts = findAll(parseXml(svg), (e) => e.name === 'text').map((e) => e.text);
    for (const name of ['decisions/s', 'correlations started/s', 'p95 ms', 'worker', 'bridge', 'load ends'])
      expect(texts).toContain(name);
    expect(escapeXml(`a"b'c`)).toBe('a&quot;b&apos;c');
  });

  it('picks round axis steps', () => {
    expect(niceStep(100)).toBe(25);
    expect(niceStep(40)).toBe(10);
    expect(niceStep(7)).toBe(2);
    expect(niceStep(0)).toBe(1);
  });

  it('renders an empty series list without breaking', () => {
    expect(() =>
      parseXml(renderChart({ title: 'empty', t: [], panels: [{ title: 'nothing', lines: [] }] })),
    ).not.toThrow();
  });
});

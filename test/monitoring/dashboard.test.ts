/**
 * The Grafana dashboard's shape: every query on the data source the importer picks, every panel
 * explained, laid out on Grafana's 24-column grid without overlaps.
 */
import { readFileSync } from 'node:fs';
import { DASHBOARD_FILE } from './monitoring-files';

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  targets?: { datasource: { type: string; uid: string }; expr: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}

const board = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
};
const graphs = board.panels.filter((p) => p.type !== 'row');
const onTheVariable = { type: 'prometheus', uid: '${datasource}' };

it('asks the importer for a Prometheus data source, and queries it everywhere', () => {
  expect(board.templating.list.find((v) => v.name === 'datasource')).toMatchObject({
    type: 'datasource',
    query: 'prometheus',
  });
  for (const panel of graphs) {
    expect({ panel: panel.title, datasource: panel.datasource }).toEqual({
      panel: panel.title,
      datasource: onTheVariable,
    });
    for (const target of panel.targets ?? [])
      expect({ panel: panel.title, datasource: target.datasource }).toEqual({
        panel: panel.title,
        datasource: onTheVariable,
      });
  }
});

it('says what each panel shows, and gives each a query', () => {
  for (const panel of graphs) {
    expect({
      panel: panel.title,
      described: (panel.description ?? '').length > 20,
      queries: (panel.targets ?? []).length > 0,
    }).toEqual({ panel: panel.title, described: true, queries: true });
  }
});

it('lays the panels out on the 24-column grid, each with its own id, none over another', () => {
  expect(new Set(board.panels.map((p) => p.id)).size).toBe(board.panels.length);
  const cells = new Map<string, string>();
  for (const panel of board.panels) {
    const { x, y, w, h } = panel.gridPos;
    expect({ panel: panel.title, fits: x >= 0 && w > 0 && x + w <= 24 }).toEqual({ panel: panel.title, fits: true });
    for (let row = y; row < y + h; row++) {
      for (let col = x; col < x + w; col++) {
        const cell = `${row}:${col}`;
        expect({ cell, taken: cells.get(cell) }).toEqual({ cell, taken: undefined });
        cells.set(cell, panel.title);
      }
    }
  }
});

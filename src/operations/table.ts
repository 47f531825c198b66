/** Plain-text tables for the operator commands' output. Pure. */

type Align = 'l' | 'r';

/**
 * Rows with their columns padded to the widest cell and two spaces between them, each column
 * aligned left unless `align` says `r`; lines carry no trailing blanks.
 */
export function formatTable(
  rows: ReadonlyArray<readonly string[]>,
  options: { align?: readonly Align[]; indent?: string } = {},
): string[] {
  const { align = [], indent = '' } = options;
  const width = (cell: string): number => [...cell].length;
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => width(r[i] ?? '')))) ?? [];
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => {
          const pad = ' '.repeat(widths[i] - width(cell));
          return align[i] === 'r' ? pad + cell : cell + pad;
        })
        .join('  ')
        .trimEnd(),
  );
}

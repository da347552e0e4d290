/**
 * A picture of the fake spreadsheet's tab for the browser test: its cells as an HTML table, each cell coloured by the
 * first conditional format rule that matches it (as Sheets applies them), the frozen header kept in view, and the rows
 * the basic filter hides left out. So a screenshot shows what the user would see in Sheets.
 */
import type { RawCell } from '../../appsscript/server/apps-script-types';

/** A conditional format rule as the add-on host reports it (1-based ranges). */
export interface ViewRule {
  ranges: Array<{ row: number; column: number; numRows: number; numColumns: number }>;
  type: string | null;
  value: string | null;
  background: string | null;
  fontColor: string | null;
}

/** The tab as the add-on host reports it. */
export interface SheetView {
  name: string;
  cells: RawCell[][];
  frozenRows: number;
  rules: ViewRule[];
  hiddenRows: number[];
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The first rule covering (row, column) whose text condition the value meets. */
function ruleFor(view: SheetView, row: number, column: number, value: string): ViewRule | undefined {
  return view.rules.find(
    (r) =>
      r.type === 'TEXT_EQUAL_TO' &&
      r.value === value &&
      r.ranges.some(
        (g) => row >= g.row && row < g.row + g.numRows && column >= g.column && column < g.column + g.numColumns,
      ),
  );
}

/** The HTML page of `view`. */
export function renderSheetView(view: SheetView): string {
  const hidden = new Set(view.hiddenRows);
  const rows = view.cells
    .map((cells, i) => {
      const row = i + 1;
      if (hidden.has(row)) return '';
      const tag = row <= view.frozenRows ? 'th' : 'td';
      const tds = cells.map((cell, j) => {
        const text = String(cell ?? '');
        const rule = ruleFor(view, row, j + 1, text);
        const style = rule ? ` style="background:${rule.background ?? ''};color:${rule.fontColor ?? ''}"` : '';
        return `<${tag} data-row="${row}" data-col="${j + 1}"${style}>${escape(text)}</${tag}>`;
      });
      return `<tr data-row="${row}">${tds.join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(view.name)}</title><style>
body { font: 12px Arial, sans-serif; margin: 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid #e0e0e0; padding: 3px 6px; max-width: 180px; overflow: hidden; white-space: nowrap; }
th { position: sticky; top: 0; background: #f8f9fa; font-weight: bold; }
</style></head><body><table id="sheet">${rows}</table></body></html>`;
}

// Plain-text tables for the terminal and for pasting into README.md as Markdown (the same text is both).
import type { ReportTable } from './case-report.js';

/** A Markdown table with aligned columns; numbers are right-aligned, text left-aligned. */
export function formatTable(table: ReportTable): string {
  const widths = table.headers.map((header, column) => Math.max(header.length, ...table.rows.map((row) => (row[column] ?? '').length)));
  const numeric = table.headers.map((_, column) => table.rows.length > 0 && table.rows.every((row) => /^[-+]?[\d.,]+[x%]?$|^-$/.test(row[column] ?? '')));
  const cell = (text: string, column: number): string => (numeric[column] ? text.padStart(widths[column]!) : text.padEnd(widths[column]!));
  const line = (cells: string[]): string => `| ${cells.map((text, column) => cell(text, column)).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (numeric[column] ? `${'-'.repeat(width + 1)}:` : `:${'-'.repeat(width + 1)}`)).join('|')}|`;
  return [`**${table.title}**`, '', line(table.headers), rule, ...table.rows.map(line)].join('\n');
}

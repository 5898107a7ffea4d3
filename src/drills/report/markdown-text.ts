// Markdown escaping for the drill report: text from the database, pg_amcheck or an error message is shown as
// written, never as markup (a `|` would split a table cell, a `<` open an HTML tag, a backtick end a code span).

const MARKUP = /[\\`*_[\]<>&|#~]/g;
const MARKUP_ESCAPES: Readonly<Record<string, string>> = { '<': '&lt;', '>': '&gt;', '&': '&amp;' };
// Control characters other than tab and newline: shown as `\xHH`, as in the JUnit report.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

function showControls(text: string): string {
  return text.replace(CONTROL, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** `text` as literal Markdown inline text; line breaks become `<br>` so it also fits in a table cell. */
export function markdownText(text: string): string {
  return showControls(text)
    .replace(MARKUP, (char) => MARKUP_ESCAPES[char] ?? `\\${char}`)
    .replace(/\r?\n/g, '<br>');
}

/**
 * `text` as an inline code span, fenced with more backticks than it holds (CommonMark's rule). In a table cell a
 * `|` still splits the cell even inside a code span unless escaped (GFM); elsewhere the escape would show.
 */
export function markdownCode(text: string, inTableCell = false): string {
  const oneLine = showControls(text).replace(/\r?\n/g, ' ');
  const longestRun = Math.max(0, ...(oneLine.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${inTableCell ? oneLine.replace(/\|/g, '\\|') : oneLine}${pad}${fence}`;
}

/** `text` as a fenced code block, its fence longer than any backtick run inside. */
export function markdownCodeBlock(text: string): string {
  const body = showControls(text).replace(/\s+$/, '');
  const longestRun = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}text\n${body}\n${fence}`;
}

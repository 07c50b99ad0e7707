/**
 * Markdown helpers for benchmark reports: tables and in-place section updates.
 */

/** A GitHub-flavoured markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A plain-text table with padded columns, for terminals. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, col) => c.padEnd(widths[col]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Replaces the body of the level-2 section whose heading starts with `## <title>` (up to the
 * next level-2 heading or the end), keeping the heading and every other section untouched.
 * Throws if the section is missing.
 */
export function replaceSection(document: string, title: string, body: string): string {
  const lines = document.split('\n');
  const start = lines.findIndex((l) => l === `## ${title}` || l.startsWith(`## ${title} `));
  if (start < 0) throw new Error(`section "## ${title}" not found`);
  let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  if (end < 0) end = lines.length;
  const replacement = ['', ...body.trim().split('\n'), ''];
  return [...lines.slice(0, start + 1), ...replacement, ...lines.slice(end)].join('\n');
}

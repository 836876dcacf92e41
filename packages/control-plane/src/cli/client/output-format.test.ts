// --output table and json as a user sees them, including text a server could use to
// drive the terminal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable, renderOutput, type Column } from './output-format.js';

interface Row {
  name: string;
  ok: boolean;
  count?: number;
}

const COLUMNS: readonly Column<Row>[] = [
  { header: 'Name', value: (r) => r.name },
  { header: 'Ok', value: (r) => r.ok },
  { header: 'Count', value: (r) => r.count },
];

void describe('client output', () => {
  void it('aligns a table under a dashed rule, as az does', () => {
    const text = formatTable<Row>(
      [
        { name: 'web-01', ok: true, count: 3 },
        { name: 'db', ok: false },
      ],
      COLUMNS,
    );
    assert.equal(
      text,
      [
        'Name    Ok     Count',
        '------  -----  -----',
        'web-01  True   3',
        'db      False',
        '',
      ].join('\n'),
    );
  });

  void it('prints nothing for an empty table and indented JSON otherwise', () => {
    assert.equal(renderOutput<Row>([], 'table', COLUMNS), '');
    assert.equal(renderOutput<Row>([], 'json', COLUMNS), '[]\n');
    assert.equal(
      renderOutput({ name: 'a', ok: true }, 'json', COLUMNS),
      '{\n  "name": "a",\n  "ok": true\n}\n',
    );
  });

  void it('shows a single object as a one-row table', () => {
    assert.equal(
      renderOutput({ name: 'a', ok: true }, 'table', COLUMNS),
      'Name  Ok    Count\n----  ----  -----\na     True\n',
    );
  });

  void it('keeps server text from driving the terminal', () => {
    const text = formatTable([{ name: 'evil\u001b[2J\nname', ok: true }], COLUMNS);
    assert.ok(!text.includes('\u001b'));
    assert.equal(text.split('\n').length, 4);
    assert.match(text, /evil\uFFFD\[2J\uFFFDname/);
  });
});

// How `tether machine metrics` turns per-minute points into its table and chart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { bucketRows, formatFigure, parseInterval, sparkline } from './metric-series.js';

void describe('metric series', () => {
  void it('parses intervals of whole minutes up to a day', () => {
    const cases: [string, number][] = [
      ['1m', 60_000],
      ['5m', 300_000],
      ['1h', 3_600_000],
      ['1d', 86_400_000],
      ['PT15M', 900_000],
      ['pt1h30m', 5_400_000],
    ];
    for (const [text, ms] of cases) assert.equal(parseInterval(text), ms, text);
    for (const bad of ['0m', '30s', '2d', 'PT', 'five', ''])
      assert.throws(() => parseInterval(bad), InvalidArgumentError, bad);
  });

  void it('averages each interval per metric and leaves out intervals without samples', () => {
    const rows = bucketRows(
      [
        {
          name: 'Percentage CPU',
          unit: 'Percent',
          points: [
            { timeStamp: '2026-06-01T12:00:00Z', average: 10 },
            { timeStamp: '2026-06-01T12:04:00Z', average: 20 },
            { timeStamp: '2026-06-01T12:15:00Z', average: 40 },
          ],
        },
        {
          name: 'Used Memory Bytes',
          unit: 'Bytes',
          points: [{ timeStamp: '2026-06-01T12:01:00Z', average: 1024 }],
        },
      ],
      300_000,
    );
    assert.deepEqual(rows, [
      {
        timeStamp: '2026-06-01T12:00:00Z',
        values: { 'Percentage CPU': 15, 'Used Memory Bytes': 1024 },
      },
      {
        timeStamp: '2026-06-01T12:15:00Z',
        values: { 'Percentage CPU': 40, 'Used Memory Bytes': undefined },
      },
    ]);
  });

  void it('shows figures in their unit', () => {
    assert.equal(formatFigure('Percent', 12.345), '12.3 %');
    assert.equal(formatFigure('Bytes', 512), '512 B');
    assert.equal(formatFigure('Bytes', 3.5 * 1024 ** 3), '3.50 GiB');
    assert.equal(formatFigure('Count', 7), '7');
    assert.equal(formatFigure('Bytes', undefined), '');
  });

  void it('draws the lowest value lowest, the highest highest, and gaps as blanks', () => {
    assert.equal(sparkline([0, 50, 100, undefined, 100]), '▁▅█ █');
    assert.equal(sparkline([3, 3]), '▁▁');
    assert.equal(sparkline([]), '');
  });
});

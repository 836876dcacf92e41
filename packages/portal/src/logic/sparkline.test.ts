import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sparkline } from './sparkline.js';

void describe('metric charts', () => {
  void it('spans the box: first point left, last right, the highest value on top', () => {
    const line = sparkline(
      [
        { time: 0, value: 0 },
        { time: 60_000, value: 50 },
        { time: 120_000, value: 100 },
      ],
      200,
      50,
    );
    assert.equal(line.points, '0.0,50.0 100.0,25.0 200.0,0.0');
    assert.equal(line.max, 100);
    assert.equal(line.last, 100);
  });

  void it('draws nothing without data and a flat line for one value', () => {
    assert.equal(sparkline([], 100, 40).points, '');
    assert.equal(sparkline([{ time: 5, value: 0 }], 100, 40).points, '50.0,20.0');
  });
});

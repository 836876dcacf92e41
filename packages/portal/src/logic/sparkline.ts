// A metric's points as an SVG polyline in a box: time across, value up, scaled to the span.

export interface Point {
  time: number;
  value: number;
}

export interface Sparkline {
  points: string;
  min: number;
  max: number;
  last: number | undefined;
}

export function sparkline(
  data: readonly Point[],
  width: number,
  height: number,
  floorZero = true,
): Sparkline {
  if (data.length === 0) return { points: '', min: 0, max: 0, last: undefined };
  const times = data.map((p) => p.time);
  const values = data.map((p) => p.value);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const min = floorZero ? Math.min(0, ...values) : Math.min(...values);
  const max = Math.max(...values);
  const x = (t: number): number => (t1 === t0 ? width / 2 : ((t - t0) / (t1 - t0)) * width);
  const y = (v: number): number =>
    max === min ? height / 2 : height - ((v - min) / (max - min)) * height;
  const points = data.map((p) => `${x(p.time).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  return { points, min, max, last: data.at(-1)?.value };
}

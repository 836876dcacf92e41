// The monitor extension's metrics for the last hour as small SVG charts.
import { bytes } from '../../logic/format.js';
import { sparkline } from '../../logic/sparkline.js';
import { usePortal } from '../context.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Loading, Section } from '../widgets.js';

interface Metric {
  name: { value: string };
  unit: string;
  timeseries: { data: { timeStamp: string; average?: number }[] }[];
}

const WIDTH = 240;
const HEIGHT = 60;

export function Metrics(props: { machineId: string }) {
  const { api } = usePortal();
  const metrics = useLoad(
    () =>
      api.get<{ value: Metric[] }>(
        `${props.machineId}/providers/Microsoft.Insights/metrics?api-version=2024-07-10&metricnames=${encodeURIComponent('Percentage CPU,Used Memory Bytes,Used Disk Bytes')}`,
      ),
    [props.machineId],
  );
  return (
    <Section title="Metrics (last hour)" id="metrics">
      <Loading loading={metrics.loading} />
      <ErrorMessage error={metrics.error} />
      <div class="charts">
        {(metrics.data?.value ?? []).map((metric) => {
          const data = (metric.timeseries[0]?.data ?? [])
            .filter((d) => d.average !== undefined)
            .map((d) => ({ time: Date.parse(d.timeStamp), value: d.average ?? 0 }));
          const line = sparkline(data, WIDTH, HEIGHT);
          const show = (v: number) => (metric.unit === 'Bytes' ? bytes(v) : `${v.toFixed(1)} %`);
          return (
            <figure key={metric.name.value} class="chart">
              <figcaption>
                {metric.name.value}: {line.last === undefined ? 'no data' : show(line.last)}
              </figcaption>
              <svg
                width={WIDTH}
                height={HEIGHT}
                viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
                role="img"
                aria-label={`${metric.name.value}, ${data.length} points`}
              >
                <rect x="0" y="0" width={WIDTH} height={HEIGHT} class="chart-bg" />
                {line.points !== '' && <polyline points={line.points} class="chart-line" />}
              </svg>
            </figure>
          );
        })}
      </div>
    </Section>
  );
}

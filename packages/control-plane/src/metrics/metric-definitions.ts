// The metrics Tether serves for a machine, in Azure Monitor's names and units, and how each is
// read from a stored sample.
import type { MetricSample } from '@tether/protocol';

export interface MetricDefinition {
  readonly name: string;
  readonly unit: 'Percent' | 'Bytes';
  readonly description: string;
  readonly value: (sample: MetricSample) => number;
}

export const METRIC_DEFINITIONS: readonly MetricDefinition[] = [
  {
    name: 'Percentage CPU',
    unit: 'Percent',
    description: 'The percentage of processor time in use on the machine.',
    value: (s) => s.cpuPercent,
  },
  {
    name: 'Used Memory Bytes',
    unit: 'Bytes',
    description: 'Memory in use: total less available.',
    value: (s) => s.memoryUsedBytes,
  },
  {
    name: 'Total Memory Bytes',
    unit: 'Bytes',
    description: 'Total memory of the machine.',
    value: (s) => s.memoryTotalBytes,
  },
  {
    name: 'Used Disk Bytes',
    unit: 'Bytes',
    description: 'Space in use on the root file system.',
    value: (s) => s.diskUsedBytes,
  },
  {
    name: 'Total Disk Bytes',
    unit: 'Bytes',
    description: 'Size of the root file system.',
    value: (s) => s.diskTotalBytes,
  },
];
